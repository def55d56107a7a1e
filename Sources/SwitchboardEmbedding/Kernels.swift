import CKernels
import CBLAS

/// The encoder's element-wise work, on 8-float SIMD vectors, and its one matrix-product shape. (Eight, not sixteen:
/// on the baseline x86-64 target a 16-float polynomial runs out of SSE registers and was 4× slower.)
///
/// GELU's error function and softmax's exponential are polynomial approximations (max abs error 3.3e-7 for erf,
/// max rel error 8e-8 for exp, measured over their whole range against libm): libm's scalar `erff`/`expf` calls were
/// a quarter of the encoder's time, and the golden tests hold the result to the reference (cosine ≥ 0.9999).
enum Kernels {
    typealias Vector = SIMD8<Float>

    /// out[rows × outputs] = input[rows × inputs] · weightᵀ + bias (PyTorch's [out, in] weights, transposed by BLAS).
    static func linear(
        _ input: UnsafeBufferPointer<Float>, rows: Int, _ layer: MiniLMWeights.Linear, into out: UnsafeMutableBufferPointer<Float>
    ) {
        let (m, n, k) = (Int32(rows), Int32(layer.outputs), Int32(layer.inputs))
        if let packed = layer.packed, rows <= packedKernelRows {
            // Short inputs: OpenBLAS would copy ("pack") the weights on every call, most of the cost at a few dozen
            // tokens; these were packed once at load.
            sb_linear(input.baseAddress!, m, k, packed.baseAddress!, n, out.baseAddress!)
        } else {
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1, input.baseAddress!, k, layer.weight.baseAddress!, k, 0, out.baseAddress!, n)
        }
        let bias = UnsafeRawPointer(layer.bias.baseAddress!)
        let o = UnsafeMutableRawPointer(out.baseAddress!)
        let stride = MemoryLayout<Vector>.size
        for r in 0..<rows {
            let row = o + r * layer.outputs * 4
            for c in 0..<(layer.outputs / 8) {
                let sum =
                    row.loadUnaligned(fromByteOffset: c * stride, as: Vector.self) + bias.loadUnaligned(fromByteOffset: c * stride, as: Vector.self)
                row.storeBytes(of: sum, toByteOffset: c * stride, as: Vector.self)
            }
        }
    }

    /// Inputs up to this many tokens use the packed-weight kernel; longer ones (passages, batches) BLAS.
    static let packedKernelRows = 128

    /// x += y, element-wise (the residual connections); counts are multiples of 8.
    static func add(_ y: UnsafeBufferPointer<Float>, into x: UnsafeMutableBufferPointer<Float>) {
        let (xs, ys) = (UnsafeMutableRawPointer(x.baseAddress!), UnsafeRawPointer(y.baseAddress!))
        let stride = MemoryLayout<Vector>.size
        for i in 0..<(x.count / 8) {
            let sum = xs.loadUnaligned(fromByteOffset: i * stride, as: Vector.self) + ys.loadUnaligned(fromByteOffset: i * stride, as: Vector.self)
            xs.storeBytes(of: sum, toByteOffset: i * stride, as: Vector.self)
        }
    }

    /// LayerNorm over each row (ε = 1e-12, BERT's); the width is a multiple of 8.
    static func layerNorm(_ x: UnsafeMutableBufferPointer<Float>, rows: Int, width: Int, _ norm: MiniLMWeights.Norm) {
        let w = UnsafeRawPointer(norm.weight.baseAddress!)
        let b = UnsafeRawPointer(norm.bias.baseAddress!)
        let stride = MemoryLayout<Vector>.size
        let lanes = width / 8
        for r in 0..<rows {
            let row = UnsafeMutableRawPointer(x.baseAddress! + r * width)
            var sum = Vector()
            for i in 0..<lanes { sum += row.loadUnaligned(fromByteOffset: i * stride, as: Vector.self) }
            let mean = sum.sum() / Float(width)
            var squares = Vector()
            for i in 0..<lanes {
                let c = row.loadUnaligned(fromByteOffset: i * stride, as: Vector.self) - mean
                squares += c * c
            }
            let inverse = 1 / (squares.sum() / Float(width) + 1e-12).squareRoot()
            for i in 0..<lanes {
                let v = (row.loadUnaligned(fromByteOffset: i * stride, as: Vector.self) - mean) * inverse
                let scaled =
                    v * w.loadUnaligned(fromByteOffset: i * stride, as: Vector.self) + b.loadUnaligned(fromByteOffset: i * stride, as: Vector.self)
                row.storeBytes(of: scaled, toByteOffset: i * stride, as: Vector.self)
            }
        }
    }

    /// GELU with the error function: x · Φ(x) = ½x(1 + erf(x/√2)); the count is a multiple of 8.
    static func gelu(_ x: UnsafeMutableBufferPointer<Float>) {
        let p = UnsafeMutableRawPointer(x.baseAddress!)
        let stride = MemoryLayout<Vector>.size
        for i in 0..<(x.count / 8) {
            let v = p.loadUnaligned(fromByteOffset: i * stride, as: Vector.self)
            p.storeBytes(of: 0.5 * v * (1 + erf(v * 0.70710678118654752)), toByteOffset: i * stride, as: Vector.self)
        }
    }

    /// Softmax of each row, in place.
    static func softmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        let full = width / 8
        let stride = MemoryLayout<Vector>.size
        for r in 0..<rows {
            let base = x + r * width
            let row = UnsafeMutableRawPointer(base)
            var top = -Float.infinity
            if full > 0 {
                var tops = row.loadUnaligned(as: Vector.self)
                for i in 1..<full { tops = max(tops, row.loadUnaligned(fromByteOffset: i * stride, as: Vector.self)) }
                top = tops.max()
            }
            for i in (full * 8)..<width { top = Swift.max(top, base[i]) }
            var sums = Vector()
            for i in 0..<full {
                let e = exp(row.loadUnaligned(fromByteOffset: i * stride, as: Vector.self) - top)
                sums += e
                row.storeBytes(of: e, toByteOffset: i * stride, as: Vector.self)
            }
            var sum = sums.sum()
            if full * 8 < width {
                var v = Vector(repeating: -100)
                for j in 0..<(width - full * 8) { v[j] = base[full * 8 + j] - top }
                let e = exp(v)
                for j in 0..<(width - full * 8) {
                    base[full * 8 + j] = e[j]
                    sum += e[j]
                }
            }
            let inverse = Vector(repeating: 1 / sum)
            for i in 0..<full {
                row.storeBytes(
                    of: row.loadUnaligned(fromByteOffset: i * stride, as: Vector.self) * inverse, toByteOffset: i * stride, as: Vector.self)
            }
            for i in (full * 8)..<width { base[i] *= inverse[0] }
        }
    }

    /// Lane-wise maximum and minimum as compare-and-select (the generic `pointwiseMax` was not inlined).
    @inline(__always) static func max(_ a: Vector, _ b: Vector) -> Vector { a.replacing(with: b, where: b .> a) }
    @inline(__always) static func clamp(_ v: Vector, _ low: Float, _ high: Float) -> Vector {
        v.replacing(with: low, where: v .< low).replacing(with: high, where: v .> high)
    }

    /// erf, rational approximation on [-4, 4] (erf is ±1 to float precision beyond).
    @inline(__always) static func erf(_ v: Vector) -> Vector {
        let x = clamp(v, -4, 4)
        let x2 = x * x
        var p = x2 * -2.72614225801306e-10 + 2.77068142495902e-08
        p = x2 * p + -2.10102402082508e-06
        p = x2 * p + -5.69250639462346e-05
        p = x2 * p + -7.34990630326855e-04
        p = x2 * p + -2.95459980854025e-03
        p = x2 * p + -1.60960333262415e-02
        var q = x2 * -1.45660718464996e-05 + -2.13374055278905e-04
        q = x2 * q + -1.68282697438203e-03
        q = x2 * q + -7.37332916720468e-03
        q = x2 * q + -1.42647390514189e-02
        return x * p / q
    }

    /// e^x: x = n·ln2 + r, a degree-6 polynomial for e^r, then 2^n through the exponent bits.
    @inline(__always) static func exp(_ v: Vector) -> Vector {
        let x0 = clamp(v, -87.3, 88.3)
        // Round x·log2(e) to the nearest integer by adding 1.5·2²³: n's value is then in the sum's low mantissa bits.
        let shifted = x0 * 1.44269504088896341 + 12_582_912
        let n = shifted - 12_582_912
        let x = x0 - n * 0.693359375 - n * -2.12194440e-4
        var y = x * 1.9875691500e-4 + 1.3981999507e-3
        y = y * x + 8.3334519073e-3
        y = y * x + 4.1665795894e-2
        y = y * x + 1.6666665459e-1
        y = y * x + 5.0000001201e-1
        y = y * (x * x) + x + 1
        let bits = (unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
        return y * unsafeBitCast(bits, to: Vector.self)
    }
}
