public import FoundationEssentials
import Crypto

/// Why a question pool file could not be used.
public enum QuestionPoolError: Error, Sendable, CustomStringConvertible {
    case unreadable(String)
    case corrupt(String, String)

    public var description: String {
        switch self {
        case .unreadable(let path):
            "no question pool at \(path): a clone carries one in Models/retrieval; set SWITCHBOARD_QUESTION_POOL or run `switchboard train question-pool`"
        case .corrupt(let path, let why): "the question pool \(path) is not usable (\(why)); rebuild it with `switchboard train question-pool`"
        }
    }
}

/// Typical customer questions, as unit sentence vectors, with no labels: the neighbours a help-center search
/// borrows from.
///
/// A single question's dense ranking is noisy — a typo, an odd word ("rebate"), a long preamble move it. Questions that
/// mean the same are asked again and again, by other customers, in other words, so ``DenseIndex`` blends a question's
/// article scores with those of its nearest pool questions (cosine above ``floor``, at most ``limit``, weighted by how
/// far above the floor they are). Each pool question's scores are computed against the tenant's own articles, so the
/// pool carries no knowledge of any help center: only what customers tend to ask.
///
/// A pool question at cosine ≥ ``duplicate`` is the question itself (or a copy of it) and adds nothing; it is skipped.
public struct QuestionPool: Sendable {
    /// Neighbours below this cosine are not the same question.
    public static let floor: Float = 0.5
    /// The most neighbours a question borrows from.
    public static let limit = 20
    /// At or above this cosine a pool question is the asked question itself.
    public static let duplicate: Float = 0.9999

    public let modelID: String
    public let count: Int
    public let dimension: Int
    let matrix: [Float]

    public init(modelID: String, vectors: [[Float]]) {
        self.modelID = modelID
        self.count = vectors.count
        self.dimension = vectors.first?.count ?? 0
        self.matrix = vectors.flatMap { $0 }
    }

    init(modelID: String, dimension: Int, matrix: [Float]) {
        (self.modelID, self.dimension, self.matrix) = (modelID, dimension, matrix)
        self.count = dimension == 0 ? 0 : matrix.count / dimension
    }

    /// The pool questions near `query`: index and weight (cosine − ``floor``), nearest first.
    public func neighbours(of query: [Float]) -> [(index: Int, weight: Float)] {
        guard count > 0, query.count == dimension else { return [] }
        let cosines = matrix.withUnsafeBufferPointer { m in query.withUnsafeBufferPointer { rowDots(m, rows: count, dimension: dimension, $0) } }
        var near: [(index: Int, weight: Float)] = []
        for (i, c) in cosines.enumerated() where c > Self.floor && c < Self.duplicate { near.append((i, c - Self.floor)) }
        near.sort { $0.weight != $1.weight ? $0.weight > $1.weight : $0.index < $1.index }
        return Array(near.prefix(Self.limit))
    }

    /// The pool's cosine with each of `rows` unit vectors (`rows` × ``dimension``, row-major): `count` × `rows`.
    func scores(against rows: [Float], rowCount: Int) -> [Float] {
        var out = [Float](repeating: 0, count: count * rowCount)
        guard count > 0, rowCount > 0 else { return out }
        rows.withUnsafeBufferPointer { r in
            matrix.withUnsafeBufferPointer { m in
                for a in 0..<rowCount {
                    let column = rowDots(
                        m, rows: count, dimension: dimension, UnsafeBufferPointer(rebasing: r[(a * dimension)..<((a + 1) * dimension)]))
                    for q in 0..<count { out[q * rowCount + a] = column[q] }
                }
            }
        }
        return out
    }

    // MARK: File

    /// `SBQP`, format 1, the encoder's id, then the vectors as 16-bit floats (half the size; cosines move by < 0.001).
    static let magic: [UInt8] = Array("SBQP".utf8)
    static let format: UInt32 = 1

    public func encoded() -> [UInt8] {
        var bytes = Self.magic
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
        append(Self.format)
        append(UInt32(dimension))
        append(UInt32(count))
        let id = Array(modelID.utf8)
        append(UInt32(id.count))
        bytes += id
        bytes.reserveCapacity(bytes.count + matrix.count * 2)
        for value in matrix { append(Float16(value).bitPattern) }
        return bytes
    }

    public static func decode(_ bytes: [UInt8], path: String = "question pool") throws(QuestionPoolError) -> QuestionPool {
        var offset = 0
        func take(_ n: Int) throws(QuestionPoolError) -> ArraySlice<UInt8> {
            guard offset + n <= bytes.count else { throw .corrupt(path, "cut short at byte \(bytes.count)") }
            defer { offset += n }
            return bytes[offset..<(offset + n)]
        }
        func uint32() throws(QuestionPoolError) -> UInt32 {
            try take(4).reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        }
        guard Array(try take(4)) == magic else { throw .corrupt(path, "not a question pool file") }
        guard try uint32() == format else { throw .corrupt(path, "an unknown format version") }
        let dimension = Int(try uint32())
        let count = Int(try uint32())
        let modelID = String(decoding: try take(Int(try uint32())), as: UTF8.self)
        guard dimension % 8 == 0, bytes.count - offset == count * dimension * 2 else {
            throw .corrupt(path, "\(count) vectors of \(dimension) do not fill \(bytes.count - offset) bytes")
        }
        var matrix = [Float](repeating: 0, count: count * dimension)
        for i in matrix.indices {
            let p = offset + 2 * i
            matrix[i] = Float(Float16(bitPattern: UInt16(bytes[p]) | UInt16(bytes[p + 1]) << 8))
        }
        return QuestionPool(modelID: modelID, dimension: dimension, matrix: matrix)
    }

    public static func read(path: String) throws(QuestionPoolError) -> QuestionPool {
        guard let data = FileManager.default.contents(atPath: path) else { throw .unreadable(path) }
        return try decode([UInt8](data), path: path)
    }

    /// Lowercase hex SHA-256, as the manifest records the file.
    public static func sha256(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
