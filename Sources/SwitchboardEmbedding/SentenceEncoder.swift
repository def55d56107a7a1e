import CBLAS
import Foundation

/// all-MiniLM-L6-v2 in Swift: WordPiece ids → 6 BERT layers → mean pooling → L2 normalisation, 384 dimensions.
///
/// The matrix products go through OpenBLAS `cblas_sgemm` on the calling thread (BLAS's own threads are turned off:
/// the worker runs many jobs on 2 cores). `embed` blocks; call it from ``EmbeddingService``'s threads, never from
/// Swift's cooperative pool. A batch is encoded as one stack of tokens, so its linear layers are a single product
/// each; attention runs per text.
public final class SentenceEncoder: Sendable {
    /// Names the model in stored embeddings: vectors from another model are never compared with these.
    public static let modelID = "all-MiniLM-L6-v2"
    public static let dimension = MiniLMWeights.hidden
    /// sentence-transformers' `max_seq_length` for this model: longer texts are cut (chunks are made shorter).
    public static let maxTokens = 256

    public let tokenizer: WordPieceTokenizer
    private let file: SafeTensorsFile
    private let weights: MiniLMWeights

    /// Loads `model.safetensors` and `vocab.txt` from `directory` (memory-mapped, shared by every process).
    public init(directory: String) throws(EmbeddingModelError) {
        let file = try SafeTensorsFile(path: directory + "/model.safetensors")
        let weights = try MiniLMWeights(file: file)
        let tokenizer = try WordPieceTokenizer(vocabularyFile: directory + "/vocab.txt")
        guard tokenizer.vocabularySize == weights.vocabularySize else {
            throw .corrupt(directory + "/vocab.txt", "has \(tokenizer.vocabularySize) tokens, the model \(weights.vocabularySize)")
        }
        openblas_set_num_threads(1)
        (self.file, self.weights, self.tokenizer) = (file, weights, tokenizer)
    }

    /// Unit vectors for `texts`, in order. Blocks the calling thread.
    public func embed(_ texts: [String]) -> [[Float]] {
        embed(ids: texts.map { tokenizer.encode($0, maxTokens: Self.maxTokens) })
    }

    /// Unit vectors for token id sequences (each starting `[CLS]`, ending `[SEP]`, at most ``maxTokens``).
    public func embed(ids batch: [[Int32]]) -> [[Float]] {
        let lengths = batch.map(\.count)
        let total = lengths.reduce(0, +)
        guard total > 0 else { return batch.map { _ in [Float](repeating: 0, count: Self.dimension) } }
        let h = MiniLMWeights.hidden
        var x = [Float](repeating: 0, count: total * h)
        x.withUnsafeMutableBufferPointer { x in
            embedTokens(batch, into: x)
            var scratch = Scratch(tokens: total)
            for layer in weights.layers {
                encoderLayer(layer, x: x, lengths: lengths, scratch: &scratch)
            }
        }
        // Mean pooling over each text's tokens, then L2 normalisation.
        var vectors: [[Float]] = []
        var offset = 0
        for n in lengths {
            var v = [Float](repeating: 0, count: h)
            for t in offset..<(offset + n) {
                for d in 0..<h { v[d] += x[t * h + d] }
            }
            let norm = sqrt(v.reduce(0) { $0 + $1 * $1 })
            vectors.append(v.map { norm > 0 ? $0 / norm : 0 })
            offset += n
        }
        return vectors
    }

    /// Word + position + token-type embeddings, layer-normalised.
    private func embedTokens(_ batch: [[Int32]], into x: UnsafeMutableBufferPointer<Float>) {
        let h = MiniLMWeights.hidden
        var row = 0
        for ids in batch {
            for (position, id) in ids.enumerated() {
                let token = Int(id) < weights.vocabularySize ? Int(id) : Int(tokenizer.unknownID)
                for d in 0..<h {
                    x[row * h + d] =
                        weights.wordEmbeddings[token * h + d] + weights.positionEmbeddings[position * h + d] + weights.tokenTypeEmbeddings[d]
                }
                row += 1
            }
        }
        Kernels.layerNorm(x, rows: row, width: h, weights.embeddingNorm)
    }

    /// Buffers one batch reuses across its six layers.
    private struct Scratch {
        var q, k, v, context, projected: [Float]
        var wide: [Float]
        var scores: [Float]
        init(tokens: Int) {
            let h = MiniLMWeights.hidden
            (q, k, v) = ([Float](repeating: 0, count: tokens * h), [Float](repeating: 0, count: tokens * h), [Float](repeating: 0, count: tokens * h))
            (context, projected) = ([Float](repeating: 0, count: tokens * h), [Float](repeating: 0, count: tokens * h))
            wide = [Float](repeating: 0, count: tokens * MiniLMWeights.intermediate)
            scores = []
        }
    }

    private func encoderLayer(_ layer: MiniLMWeights.Layer, x: UnsafeMutableBufferPointer<Float>, lengths: [Int], scratch: inout Scratch) {
        let h = MiniLMWeights.hidden
        let tokens = x.count / h
        let input = UnsafeBufferPointer(x)
        scratch.q.withUnsafeMutableBufferPointer { Kernels.linear(input, rows: tokens, layer.query, into: $0) }
        scratch.k.withUnsafeMutableBufferPointer { Kernels.linear(input, rows: tokens, layer.key, into: $0) }
        scratch.v.withUnsafeMutableBufferPointer { Kernels.linear(input, rows: tokens, layer.value, into: $0) }
        attention(lengths: lengths, scratch: &scratch)
        scratch.projected.withUnsafeMutableBufferPointer { projected in
            scratch.context.withUnsafeBufferPointer { Kernels.linear($0, rows: tokens, layer.attentionOutput, into: projected) }
            Kernels.add(UnsafeBufferPointer(projected), into: x)
        }
        Kernels.layerNorm(x, rows: tokens, width: h, layer.attentionNorm)
        scratch.wide.withUnsafeMutableBufferPointer { wide in
            Kernels.linear(UnsafeBufferPointer(x), rows: tokens, layer.intermediate, into: wide)
            Kernels.gelu(wide)
            scratch.projected.withUnsafeMutableBufferPointer { projected in
                Kernels.linear(UnsafeBufferPointer(wide), rows: tokens, layer.output, into: projected)
                Kernels.add(UnsafeBufferPointer(projected), into: x)
            }
        }
        Kernels.layerNorm(x, rows: tokens, width: h, layer.outputNorm)
    }

    /// Scaled dot-product attention, per text and head: context = softmax(q·kᵀ/√32)·v.
    private func attention(lengths: [Int], scratch: inout Scratch) {
        let h = MiniLMWeights.hidden
        let d = MiniLMWeights.headSize
        let scale = 1 / Float(d).squareRoot()
        let longest = lengths.max() ?? 0
        if scratch.scores.count < longest * longest { scratch.scores = [Float](repeating: 0, count: longest * longest) }
        scratch.q.withUnsafeBufferPointer { q in
            scratch.k.withUnsafeBufferPointer { k in
                scratch.v.withUnsafeBufferPointer { v in
                    scratch.context.withUnsafeMutableBufferPointer { context in
                        scratch.scores.withUnsafeMutableBufferPointer { scores in
                            var offset = 0
                            for n in lengths {
                                let n32 = Int32(n)
                                for head in 0..<MiniLMWeights.heads {
                                    let start = offset * h + head * d
                                    cblas_sgemm(
                                        CblasRowMajor, CblasNoTrans, CblasTrans, n32, n32, Int32(d), scale, q.baseAddress! + start, Int32(h),
                                        k.baseAddress! + start, Int32(h), 0, scores.baseAddress!, n32)
                                    Kernels.softmaxRows(scores.baseAddress!, rows: n, width: n)
                                    cblas_sgemm(
                                        CblasRowMajor, CblasNoTrans, CblasNoTrans, n32, Int32(d), n32, 1, scores.baseAddress!, n32,
                                        v.baseAddress! + start, Int32(h), 0, context.baseAddress! + start, Int32(h))
                                }
                                offset += n
                            }
                        }
                    }
                }
            }
        }
    }
}
