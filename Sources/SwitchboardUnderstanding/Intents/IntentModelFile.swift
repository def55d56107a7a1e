import Crypto
public import Foundation

/// The intent model's file: `SBINTENT`, a format number, a JSON header (labels, feature settings, temperature,
/// threshold, manifest; keys sorted) and the arrays as little-endian numbers — weights as 16-bit floats (half the
/// size, and the model is trained to be used at that precision), idf and bias as 32-bit floats. The same model
/// always writes the same bytes. Prototypes follow the bias as 16-bit floats.
public enum IntentModelFile {
    public static let formatVersion = 2
    static let magic = Array("SBINTENT".utf8)

    struct Header: Codable {
        var labels: [String]
        var vectorDimension: Int
        var grams: CharGramFeatures
        var gramScale: Float
        var temperature: Float
        var prototypes: Int
        var outOfScopeThreshold: Float
        var manifest: IntentModelManifest
    }

    public static func encode(_ model: IntentModel) throws(IntentModelError) -> [UInt8] {
        var manifest = model.manifest
        manifest.modelSHA256 = nil
        let header = Header(
            labels: model.labels, vectorDimension: model.vectorDimension, grams: model.grams, gramScale: model.gramScale,
            temperature: model.temperature, prototypes: model.prototypes.count / max(1, model.vectorDimension),
            outOfScopeThreshold: model.outOfScopeThreshold, manifest: manifest)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json: Data
        do { json = try encoder.encode(header) } catch { throw .unreadable("cannot encode the header: \(error)") }
        var bytes = magic
        append(UInt32(formatVersion), to: &bytes)
        append(UInt32(json.count), to: &bytes)
        bytes += json
        for weight in model.weights { append(Float16(weight).bitPattern, to: &bytes) }
        for value in model.idf { append(value.bitPattern, to: &bytes) }
        for value in model.bias { append(value.bitPattern, to: &bytes) }
        for value in model.prototypes { append(Float16(value).bitPattern, to: &bytes) }
        return bytes
    }

    public static func decode(_ bytes: [UInt8]) throws(IntentModelError) -> IntentModel {
        var reader = Reader(bytes: bytes)
        guard reader.take(magic.count) == magic else { throw .unreadable("not an intent model file (no SBINTENT mark)") }
        let version = try reader.uint32()
        guard version == formatVersion else {
            throw .unreadable("format \(version); this build reads format \(formatVersion) — retrain with `switchboard train intents`")
        }
        let headerLength = Int(try reader.uint32())
        guard let json = reader.take(headerLength) else { throw .unreadable("truncated header") }
        let header: Header
        do { header = try JSONDecoder().decode(Header.self, from: Data(json)) } catch { throw .unreadable("bad header: \(error)") }
        let k = header.labels.count
        let features = header.vectorDimension + header.grams.buckets
        let prototypeValues = header.prototypes * header.vectorDimension
        guard k > 1, header.grams.buckets > 0, header.prototypes >= 0,
            bytes.count == reader.offset + features * k * 2 + header.grams.buckets * 4 + k * 4 + prototypeValues * 2
        else {
            throw .unreadable("\(bytes.count) bytes do not hold \(k) labels × \(features) features")
        }
        var weights = [Float](repeating: 0, count: features * k)
        for n in weights.indices { weights[n] = Float(Float16(bitPattern: reader.uint16())) }
        let idf = (0..<header.grams.buckets).map { _ in Float(bitPattern: reader.uint32Unchecked()) }
        let bias = (0..<k).map { _ in Float(bitPattern: reader.uint32Unchecked()) }
        let prototypes = (0..<prototypeValues).map { _ in Float(Float16(bitPattern: reader.uint16())) }
        var manifest = header.manifest
        manifest.modelSHA256 = sha256(bytes)
        return IntentModel(
            labels: header.labels, vectorDimension: header.vectorDimension, grams: header.grams, gramScale: header.gramScale, idf: idf,
            weights: weights, bias: bias, temperature: header.temperature, prototypes: prototypes, outOfScopeThreshold: header.outOfScopeThreshold,
            manifest: manifest)
    }

    public static func read(path: String) throws(IntentModelError) -> IntentModel {
        guard let data = FileManager.default.contents(atPath: path) else { throw .missing(path) }
        return try decode(Array(data))
    }

    /// Writes the model and, beside it, `manifest.json` (the manifest with the file's checksum).
    public static func write(_ model: IntentModel, to path: String) throws(IntentModelError) {
        let bytes = try encode(model)
        var manifest = model.manifest
        manifest.modelSHA256 = sha256(bytes)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        let manifestPath = (path as NSString).deletingLastPathComponent.appending("/manifest.json")
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
            try (encoder.encode(manifest) + Data("\n".utf8)).write(to: URL(fileURLWithPath: manifestPath), options: .atomic)
        } catch { throw .unwritable(path, "\(error)") }
    }

    public static func sha256<D: DataProtocol>(_ data: D) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    private struct Reader {
        let bytes: [UInt8]
        var offset = 0

        mutating func take(_ count: Int) -> [UInt8]? {
            guard count >= 0, offset + count <= bytes.count else { return nil }
            defer { offset += count }
            return Array(bytes[offset..<(offset + count)])
        }

        mutating func uint32() throws(IntentModelError) -> UInt32 {
            guard offset + 4 <= bytes.count else { throw .unreadable("truncated") }
            return uint32Unchecked()
        }

        mutating func uint32Unchecked() -> UInt32 {
            defer { offset += 4 }
            return UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
        }

        mutating func uint16() -> UInt16 {
            defer { offset += 2 }
            return UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
        }
    }
}

/// Why an intent model could not be loaded, trained or written.
public enum IntentModelError: Error, CustomStringConvertible, Equatable {
    case missing(String)
    case unreadable(String)
    case unwritable(String, String)
    case badData(String)

    public var description: String {
        switch self {
        case .missing(let path):
            "no intent model at \(path): a clone carries one in Models/intents; set SWITCHBOARD_INTENT_MODEL or run `switchboard train intents`"
        case .unreadable(let why): "the intent model cannot be read: \(why)"
        case .unwritable(let path, let why): "cannot write the intent model to \(path): \(why)"
        case .badData(let why): "the training data cannot be used: \(why)"
        }
    }
}
