/// Layer normalisation over the last dimension, as PyTorch's nn.LayerNorm(D):
/// y = (x − mean) / sqrt(var + eps) · γ + β per row, with the biased variance and
/// eps = 1e-5. Shapes: x, out [N × D]; γ, β [D]; mean, rstd [N] (saved by forward for
/// backward: `savedCount(rows:)`). No scratch. Rows are independent, so packed rows
/// (any batch layout) normalise the same as alone.
enum LayerNorm {
    static let eps: Float = 1e-5

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
            var sum: Float = 0
            for j in 0..<dim { sum += row[j] }
            let m = sum * inverseDim
            var squares: Float = 0
            for j in 0..<dim {
                let c = row[j] - m
                squares += c * c
            }
            let s = 1 / (squares * inverseDim + eps).squareRoot()
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
            var sumG: Float = 0, sumGX: Float = 0
            for j in 0..<dim {
                let gj = g[j] * gamma[j]
                sumG += gj
                sumGX += gj * (row[j] - m) * s
            }
            let meanG = sumG * inverseDim, meanGX = sumGX * inverseDim
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
