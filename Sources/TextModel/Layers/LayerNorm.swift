/// Layer normalisation over the last dimension, as PyTorch's nn.LayerNorm(D):
/// y = (x − mean) / sqrt(var + eps) · γ + β per row, with the biased variance and
/// eps = 1e-5. Shapes: x, out [N × D]; γ, β [D]; mean, rstd [N] (saved by forward for
/// backward: `savedCount(rows:)`). No scratch. Rows are independent, so packed rows
/// (any batch layout) normalise the same as alone.
///
/// The sums over a row run in 16 lanes (`Lanes`): a float sum the compiler must keep in
/// order stays scalar, each add waiting for the one before.
enum LayerNorm {
    static let eps: Float = 1e-5

    /// Sums over j < count in 16 lanes: lane l adds the terms of j ≡ l (mod 16) in order of
    /// j, the lanes are added pairwise (8, 4, 2, 1), then the terms past the last full 16
    /// in order. The same order for every row, so every row's sum is the same alone or in
    /// any batch.
    private struct Lanes {
        private var acc = SIMD16<Float>(repeating: 0)
        private var tail: Float = 0

        @inline(__always)
        mutating func add(_ v: SIMD16<Float>) { acc += v }

        @inline(__always)
        mutating func add(_ v: Float) { tail += v }

        @inline(__always)
        var total: Float {
            let a8 = acc.lowHalf + acc.highHalf, a4 = a8.lowHalf + a8.highHalf, a2 = a4.lowHalf + a4.highHalf
            return (a2[0] + a2[1]) + tail
        }
    }

    @inline(__always)
    private static func load(_ p: UnsafePointer<Float>, _ j: Int) -> SIMD16<Float> {
        UnsafeRawPointer(p + j).loadUnaligned(as: SIMD16<Float>.self)
    }

    /// Floats forward saves for backward: mean [N] and rstd [N], `rows` each (two
    /// buffers, or one of this size split at `rows`).
    static func savedCount(rows: Int) -> Int { 2 * rows }

    /// Writes out, and each row's mean and 1/sqrt(var + eps) into mean and rstd.
    /// `out` may not alias `x`: backward needs x.
    static func forward(x: UnsafePointer<Float>, rows: Int, dim: Int,
                        gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
                        out: UnsafeMutablePointer<Float>,
                        mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>) {
        guard dim > 0 else { return }
        let inverseDim = 1 / Float(dim)
        for r in 0..<rows {
            let row = x + r * dim
            let y = out + r * dim
            // Two passes (mean, then squared deviations): the one-pass E[x²] − E[x]²
            // loses all precision when |mean| is large against the spread.
            let full = dim - dim % 16
            var sum = Lanes()
            for j in stride(from: 0, to: full, by: 16) { sum.add(load(row, j)) }
            for j in full..<dim { sum.add(row[j]) }
            let m = sum.total * inverseDim
            var squares = Lanes()
            let mv = SIMD16<Float>(repeating: m)
            for j in stride(from: 0, to: full, by: 16) {
                let c = load(row, j) - mv
                squares.add(c * c)
            }
            for j in full..<dim {
                let c = row[j] - m
                squares.add(c * c)
            }
            let s = 1 / (squares.total * inverseDim + eps).squareRoot()
            mean[r] = m
            rstd[r] = s
            for j in 0..<dim { y[j] = (row[j] - m) * s * gamma[j] + beta[j] }
        }
    }

    /// Given dOut [N × D], ADDS the input gradient into dX (the residual stream sums the
    /// gradients of both its branches there), and when dGamma / dBeta are given, adds
    /// Σ_rows dOut·x̂ and Σ_rows dOut into them (nil: frozen parameters, skipped).
    ///
    /// With x̂ = (x − mean)·rstd and g = dOut·γ:
    /// dX = rstd · (g − mean_j(g) − x̂ · mean_j(g·x̂)).
    static func backward(dOut: UnsafePointer<Float>, x: UnsafePointer<Float>, rows: Int, dim: Int,
                         gamma: UnsafePointer<Float>,
                         mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
                         dX: UnsafeMutablePointer<Float>,
                         dGamma: UnsafeMutablePointer<Float>?, dBeta: UnsafeMutablePointer<Float>?) {
        guard dim > 0 else { return }
        let inverseDim = 1 / Float(dim)
        for r in 0..<rows {
            let row = x + r * dim
            let g = dOut + r * dim
            let dx = dX + r * dim
            let m = mean[r], s = rstd[r]
            let full = dim - dim % 16
            var sumG = Lanes(), sumGX = Lanes()
            let mv = SIMD16<Float>(repeating: m), sv = SIMD16<Float>(repeating: s)
            for j in stride(from: 0, to: full, by: 16) {
                let gj = load(g, j) * load(gamma, j)
                sumG.add(gj)
                sumGX.add(gj * (load(row, j) - mv) * sv)
            }
            for j in full..<dim {
                let gj = g[j] * gamma[j]
                sumG.add(gj)
                sumGX.add(gj * (row[j] - m) * s)
            }
            let meanG = sumG.total * inverseDim, meanGX = sumGX.total * inverseDim
            for j in 0..<dim {
                let xhat = (row[j] - m) * s
                dx[j] += s * (g[j] * gamma[j] - meanG - xhat * meanGX)
            }
            if let dGamma = dGamma {
                for j in 0..<dim { dGamma[j] += g[j] * (row[j] - m) * s }
            }
            if let dBeta = dBeta {
                for j in 0..<dim { dBeta[j] += g[j] }
            }
        }
    }
}
