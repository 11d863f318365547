/// Fully connected layer y = x·Wᵀ + b. Shapes: x [N × I], W [O × I], b [O], y [N × O].
enum Linear {
    static func forward(x: UnsafePointer<Float>, rows: Int, inputDim: Int, outputDim: Int,
                        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>) {
        for r in 0..<rows { (out + r * outputDim).update(from: bias, count: outputDim) }
        BLAS.gemm(transB: true, m: rows, n: outputDim, k: inputDim, a: x, lda: inputDim,
                  b: weight, ldb: inputDim, beta: 1, c: out, ldc: outputDim)
    }

    /// Accumulates dW += dyᵀ·x and db += Σ dy (each unless nil: input gradients only);
    /// writes dx = dy·W when dx is given.
    static func backward(dOut: UnsafePointer<Float>, x: UnsafePointer<Float>, rows: Int, inputDim: Int, outputDim: Int,
                         weight: UnsafePointer<Float>, dWeight: UnsafeMutablePointer<Float>?, dBias: UnsafeMutablePointer<Float>?,
                         dx: UnsafeMutablePointer<Float>?) {
        if let dWeight = dWeight {
            BLAS.gemm(transA: true, m: outputDim, n: inputDim, k: rows, a: dOut, lda: outputDim,
                      b: x, ldb: inputDim, beta: 1, c: dWeight, ldc: inputDim)
        }
        if let dBias = dBias {
            for r in 0..<rows {
                let g = dOut + r * outputDim
                for j in 0..<outputDim { dBias[j] += g[j] }
            }
        }
        if let dx = dx {
            BLAS.gemm(m: rows, n: inputDim, k: outputDim, a: dOut, lda: outputDim,
                      b: weight, ldb: inputDim, beta: 0, c: dx, ldc: inputDim)
        }
    }
}
