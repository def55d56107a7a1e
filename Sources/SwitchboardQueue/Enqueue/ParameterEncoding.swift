import FoundationEssentials

/// A job's parameters as the JSON stored in the queue (keys sorted, so equal parameters make equal payloads).
func encodeParameters<P: JobParameters>(_ parameters: P, with encoder: JSONEncoder = parametersEncoder()) throws(QueueError) -> [UInt8] {
    do {
        return Array(try encoder.encode(parameters))
    } catch {
        throw QueueError(.encodingFailed, "parameters of \(P.jobName) do not encode as JSON: \(type(of: error))")
    }
}

/// Many parameters of one type as JSON, one payload each, encoded in one call (as an array, then cut into its elements).
func encodeParameters<P: JobParameters>(_ batch: [P]) throws(QueueError) -> [[UInt8]] {
    if batch.count < 2 { return try batch.map { (p: P) throws(QueueError) -> [UInt8] in try encodeParameters(p) } }
    let array: [UInt8]
    do {
        array = Array(try parametersEncoder().encode(batch))
    } catch {
        throw QueueError(.encodingFailed, "parameters of \(P.jobName) do not encode as JSON: \(type(of: error))")
    }
    guard let elements = JSONArraySplitter.elements(of: array), elements.count == batch.count else {
        // Not the plain array JSONEncoder writes: encode one at a time instead.
        return try batch.map { (p: P) throws(QueueError) -> [UInt8] in try encodeParameters(p) }
    }
    return elements
}

/// Cuts the text of a JSON array, as `JSONEncoder` writes it (no whitespace), into the text of its elements: at the
/// commas outside strings at depth one. Nil when the text is not an array of that shape.
enum JSONArraySplitter {
    static func elements(of json: [UInt8]) -> [[UInt8]]? {
        guard json.count >= 2, json.first == UInt8(ascii: "["), json.last == UInt8(ascii: "]") else { return nil }
        var out: [[UInt8]] = []
        var depth = 0
        var inString = false
        var escaped = false
        var start = 1
        for i in 1..<(json.count - 1) {
            let c = json[i]
            if inString {
                if escaped {
                    escaped = false
                } else if c == UInt8(ascii: "\\") {
                    escaped = true
                } else if c == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch c {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"): depth += 1
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth -= 1
                if depth < 0 { return nil }
            case UInt8(ascii: ",") where depth == 0:
                out.append(Array(json[start..<i]))
                start = i + 1
            default: break
            }
        }
        guard depth == 0, !inString else { return nil }
        if start < json.count - 1 { out.append(Array(json[start..<(json.count - 1)])) }
        return out
    }
}

/// The encoder of job parameters: keys sorted.
func parametersEncoder() -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    return encoder
}
