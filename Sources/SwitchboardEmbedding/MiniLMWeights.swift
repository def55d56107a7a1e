import CKernels

/// all-MiniLM-L6-v2's tensors, as views into the memory-mapped safetensors file. Linear weights are PyTorch's
/// [out, in] layout, used as-is (transposed inside the matrix product).
struct MiniLMWeights: @unchecked Sendable {
    // @unchecked: read-only views into a mapping the encoder keeps alive (SafeTensorsFile).

    /// all-MiniLM-L6-v2's shape (its config.json).
    static let hidden = 384, heads = 12, headSize = 32, intermediate = 1536
    static let layerCount = 6, maxPositions = 512

    struct Linear {
        let weight: UnsafeBufferPointer<Float>
        /// The weights packed in panels for `sb_linear` (CKernels), when this CPU runs it.
        let packed: UnsafeBufferPointer<Float>?
        let bias: UnsafeBufferPointer<Float>
        let inputs: Int
        let outputs: Int
    }

    struct Norm {
        let weight: UnsafeBufferPointer<Float>
        let bias: UnsafeBufferPointer<Float>
    }

    struct Layer {
        let query, key, value, attentionOutput: Linear
        let attentionNorm: Norm
        let intermediate, output: Linear
        let outputNorm: Norm
    }

    let wordEmbeddings: UnsafeBufferPointer<Float>
    let positionEmbeddings: UnsafeBufferPointer<Float>
    let tokenTypeEmbeddings: UnsafeBufferPointer<Float>
    let embeddingNorm: Norm
    let layers: [Layer]
    let vocabularySize: Int
    /// Owns the packed copies of the linear weights.
    let packedWeights: OwnedFloats

    init(file: SafeTensorsFile) throws(EmbeddingModelError) {
        let h = Self.hidden
        guard let vocabulary = file.tensors["embeddings.word_embeddings.weight"]?.shape.first else {
            throw .corrupt(file.path, "has no word embeddings (is it a BERT model?)")
        }
        let packedWeights = OwnedFloats()
        let pack = sb_kernels_available() == 1
        func linear(_ name: String, _ inputs: Int, _ outputs: Int) throws(EmbeddingModelError) -> Linear {
            let weight = try file.floats(name + ".weight", shape: [outputs, inputs])
            var packed: UnsafeBufferPointer<Float>?
            if pack, outputs % 32 == 0 {
                let buffer = packedWeights.allocate(sb_packed_count(Int32(outputs), Int32(inputs)))
                sb_pack_weights(weight.baseAddress!, Int32(outputs), Int32(inputs), buffer.baseAddress!)
                packed = UnsafeBufferPointer(buffer)
            }
            return Linear(
                weight: weight, packed: packed, bias: try file.floats(name + ".bias", shape: [outputs]), inputs: inputs, outputs: outputs)
        }
        func norm(_ name: String) throws(EmbeddingModelError) -> Norm {
            Norm(weight: try file.floats(name + ".weight", shape: [h]), bias: try file.floats(name + ".bias", shape: [h]))
        }
        vocabularySize = vocabulary
        self.packedWeights = packedWeights
        wordEmbeddings = try file.floats("embeddings.word_embeddings.weight", shape: [vocabulary, h])
        positionEmbeddings = try file.floats("embeddings.position_embeddings.weight", shape: [Self.maxPositions, h])
        tokenTypeEmbeddings = try file.floats("embeddings.token_type_embeddings.weight", shape: [2, h])
        embeddingNorm = try norm("embeddings.LayerNorm")
        var layers: [Layer] = []
        for i in 0..<Self.layerCount {
            let p = "encoder.layer.\(i)."
            layers.append(
                Layer(
                    query: try linear(p + "attention.self.query", h, h), key: try linear(p + "attention.self.key", h, h),
                    value: try linear(p + "attention.self.value", h, h), attentionOutput: try linear(p + "attention.output.dense", h, h),
                    attentionNorm: try norm(p + "attention.output.LayerNorm"),
                    intermediate: try linear(p + "intermediate.dense", h, Self.intermediate),
                    output: try linear(p + "output.dense", Self.intermediate, h), outputNorm: try norm(p + "output.LayerNorm")))
        }
        self.layers = layers
    }
}

/// Float buffers the weights own: allocated while the model loads, freed with it.
final class OwnedFloats: @unchecked Sendable {
    // @unchecked: written only while the weights load, read-only afterwards.
    private var buffers: [UnsafeMutableBufferPointer<Float>] = []

    func allocate(_ count: Int) -> UnsafeMutableBufferPointer<Float> {
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
        buffers.append(buffer)
        return buffer
    }

    deinit { for buffer in buffers { buffer.deallocate() } }
}
