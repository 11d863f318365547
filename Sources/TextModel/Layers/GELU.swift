/// GELU in its erf form, x·Φ(x) = x/2 · (1 + erf(x/√2)), as PyTorch's default nn.GELU()
/// (not the tanh approximation, so weights trained there behave the same here). Elementwise
/// over `count` floats: x, out, dOut, dX [count]. Backward reads the forward input x, so
/// the caller keeps it (`savedCount(count:)`); out must not overwrite x. No scratch.
///
/// Φ is computed in plain float arithmetic so the loops vectorise (libm's erff and expf
/// are opaque calls, one element at a time): |Φ error| < 1e-7 against the exact value
/// (erff's formula: 6e-8), and in the negative tail Φ keeps its relative precision
/// where 1 + erff(x/√2) rounds to 0.
enum GELU {
    /// Floats backward needs from forward: the input x itself.
    static func savedCount(count: Int) -> Int { count }

    private static let inverseSqrt2: Float = 0.707_106_78
    private static let inverseSqrt2Pi: Float = 0.398_942_28

    /// Φ(v). For |v/√2| < 0.9, erf(u)/u as a degree-5 polynomial in u² (least squares on
    /// Chebyshev nodes, relative error 1.2e-8); beyond, erfc(|u|) = t·exp(−u² + R(t)) with
    /// t = 1/(1 + |u|/2) (Numerical Recipes' Chebyshev fit, relative error 1.2e-7, which
    /// the small region keeps away from where erfc ≈ 1). Both are computed and one
    /// selected: no branch, so it vectorises.
    @inline(__always)
    static func cdf(_ v: Float) -> Float {
        let u = v * inverseSqrt2, a = u.magnitude, s = u * u
        var p: Float = -6.086_069_6e-4
        p = p * s + 5.011_085_4e-3
        p = p * s - 2.677_827_9e-2
        p = p * s + 0.112_821_22
        p = p * s - 0.376_125_22
        p = p * s + 1.128_379_1
        let near = 0.5 + 0.5 * (u * p)
        let t = 1 / (1 + 0.5 * a)
        var r: Float = 0.170_872_77
        r = r * t - 0.822_152_23
        r = r * t + 1.488_515_9
        r = r * t - 1.135_204
        r = r * t + 0.278_868_07
        r = r * t - 0.186_288_06
        r = r * t + 0.096_784_18
        r = r * t + 0.374_091_96
        r = r * t + 1.000_023_7
        r = -1.265_512_2 + t * r
        let halfTail = 0.5 * (t * fastExp(r - s))
        let far = u >= 0 ? 1 - halfTail : halfTail
        return a < 0.9 ? near : far
    }

    static func forward(x: UnsafePointer<Float>, count: Int, out: UnsafeMutablePointer<Float>) {
        for i in 0..<count {
            let v = x[i]
            out[i] = v * cdf(v)
        }
    }

    /// WRITES dX = dOut · (Φ(x) + x·φ(x)), φ the standard normal density.
    static func backward(dOut: UnsafePointer<Float>, x: UnsafePointer<Float>, count: Int,
                         dX: UnsafeMutablePointer<Float>) {
        for i in 0..<count {
            let v = x[i]
            let pdf = fastExp(-0.5 * v * v) * inverseSqrt2Pi
            dX[i] = dOut[i] * (cdf(v) + v * pdf)
        }
    }
}
