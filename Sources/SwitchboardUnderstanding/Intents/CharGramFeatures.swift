import Foundation
import SwitchboardKnowledge

/// A sparse feature vector: sorted, distinct indices and their values.
public struct SparseVector: Sendable, Equatable {
    public var indices: [Int32]
    public var values: [Float]

    public init(indices: [Int32] = [], values: [Float] = []) {
        self.indices = indices
        self.values = values
    }
}

/// Character n-grams of a text's words, hashed into a fixed number of buckets: they carry what the sentence vector
/// blurs — typos ("cancelation", "refnd"), keyword-only queries ("invoice #12588") and word forms.
///
/// Words are folded (lower case, accents removed); a word with a digit in it becomes `0`, so order and invoice numbers
/// count as "a number", not as their digits. Each word is wrapped in `<` `>` so prefixes and suffixes are their own
/// grams. Grams hash with FNV-1a (fixed, unlike Swift's seeded `Hasher`), so a model file means the same in every
/// process. Counts become `1 + ln(count)`, are weighted by the training data's inverse document frequency and scaled
/// to unit length.
public struct CharGramFeatures: Sendable, Equatable, Codable {
    /// Number of hash buckets.
    public var buckets: Int
    /// Gram lengths, inclusive.
    public var minimumLength: Int
    public var maximumLength: Int

    public init(buckets: Int = 4096, minimumLength: Int = 2, maximumLength: Int = 5) {
        self.buckets = buckets
        self.minimumLength = minimumLength
        self.maximumLength = maximumLength
    }

    /// Raw counts of the text's grams per bucket (`1 + ln(count)`), before idf weighting.
    public func counts(_ text: String) -> SparseVector {
        var counts: [Int32: Int] = [:]
        for word in TextFolding.words(TextFolding.fold(text)) {
            var bytes: [UInt8] = [UInt8(ascii: "<")]
            if word.contains(where: \.isNumber) { bytes.append(UInt8(ascii: "0")) } else { bytes += word.utf8 }
            bytes.append(UInt8(ascii: ">"))
            for length in minimumLength...maximumLength {
                if bytes.count < length {
                    if length == minimumLength { counts[bucket(bytes[...]), default: 0] += 1 }
                    break
                }
                for start in 0...(bytes.count - length) { counts[bucket(bytes[start..<(start + length)]), default: 0] += 1 }
            }
        }
        let sorted = counts.sorted { $0.key < $1.key }
        return SparseVector(indices: sorted.map(\.key), values: sorted.map { 1 + Float(log(Double($0.value))) })
    }

    /// The idf-weighted, unit-length feature vector of `text`, scaled by `scale`.
    public func vector(_ text: String, idf: [Float], scale: Float) -> SparseVector {
        weighted(counts(text), idf: idf, scale: scale)
    }

    /// Weights raw counts by idf and scales them to length `scale`.
    public func weighted(_ counts: SparseVector, idf: [Float], scale: Float) -> SparseVector {
        var values = counts.values
        var norm: Float = 0
        for (n, index) in counts.indices.enumerated() {
            values[n] *= idf[Int(index)]
            norm += values[n] * values[n]
        }
        let factor = norm > 0 ? scale / norm.squareRoot() : 0
        for n in values.indices { values[n] *= factor }
        return SparseVector(indices: counts.indices, values: values)
    }

    /// Smoothed inverse document frequency of every bucket over `documents` (their raw counts).
    public func inverseDocumentFrequency(_ documents: [SparseVector]) -> [Float] {
        var frequency = [Int](repeating: 0, count: buckets)
        for document in documents { for index in document.indices { frequency[Int(index)] += 1 } }
        let total = Double(documents.count + 1)
        return frequency.map { Float(log(total / Double($0 + 1)) + 1) }
    }

    private func bucket(_ bytes: ArraySlice<UInt8>) -> Int32 {
        var hash: UInt32 = 2_166_136_261
        for byte in bytes {
            hash ^= UInt32(byte)
            hash = hash &* 16_777_619
        }
        return Int32(hash % UInt32(buckets))
    }
}
