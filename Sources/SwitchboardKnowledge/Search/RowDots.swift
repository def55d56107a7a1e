/// The dot product of `query` with each row of a row-major matrix (`rows` × `dimension`, `dimension` a multiple of 8):
/// cosines, when both sides are unit vectors.
func rowDots(_ matrix: UnsafeBufferPointer<Float>, rows: Int, dimension: Int, _ query: UnsafeBufferPointer<Float>) -> [Float] {
    precondition(dimension % 8 == 0 && query.count == dimension && matrix.count >= rows * dimension)
    return [Float](unsafeUninitializedCapacity: rows) { out, initialised in
        for r in 0..<rows {
            let row = matrix.baseAddress! + r * dimension
            var sum = SIMD8<Float>()
            for d in stride(from: 0, to: dimension, by: 8) {
                sum +=
                    UnsafeRawPointer(row + d).loadUnaligned(as: SIMD8<Float>.self)
                    * UnsafeRawPointer(query.baseAddress! + d).loadUnaligned(as: SIMD8<Float>.self)
            }
            out[r] = sum.sum()
        }
        initialised = rows
    }
}
