#if canImport(Glibc)
import Glibc
#endif

/// Exact GELU, x·Φ(x) = x/2 · (1 + erf(x/√2)), as PyTorch's default nn.GELU() (not the
/// tanh approximation, so weights trained there behave the same here). Elementwise over
/// `count` floats: x, out, dOut, dX [count]. Backward reads the forward input x, so the
/// caller keeps it (`savedCount(count:)`); out must not overwrite x. No scratch.
enum GELU {
    /// Floats backward needs from forward: the input x itself.
    static func savedCount(count: Int) -> Int { count }

    private static let inverseSqrt2: Float = 0.707_106_78
    private static let inverseSqrt2Pi: Float = 0.398_942_28

    static func forward(x: UnsafePointer<Float>, count: Int, out: UnsafeMutablePointer<Float>) {
        for i in 0..<count {
            let v = x[i]
            out[i] = 0.5 * v * (1 + erff(v * inverseSqrt2))
        }
    }

    /// WRITES dX = dOut · (Φ(x) + x·φ(x)), φ the standard normal density.
    static func backward(dOut: UnsafePointer<Float>, x: UnsafePointer<Float>, count: Int,
                         dX: UnsafeMutablePointer<Float>) {
        for i in 0..<count {
            let v = x[i]
            let cdf = 0.5 * (1 + erff(v * inverseSqrt2))
            let pdf = expf(-0.5 * v * v) * inverseSqrt2Pi
            dX[i] = dOut[i] * (cdf + v * pdf)
        }
    }
}
