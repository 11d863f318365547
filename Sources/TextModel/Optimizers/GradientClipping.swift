/// Scales a gradient so its global L2 norm is at most `maxNorm` (PyTorch's
/// clip_grad_norm_). `forEachRange` visits every part of the buffer that can be non-zero.
enum GradientClipping {
    /// Returns the norm before clipping.
    @discardableResult
    static func clip(_ grads: UnsafeMutablePointer<Float>, maxNorm: Double,
                     forEachRange: ((Range<Int>) -> Void) -> Void) -> Double {
        var sum = 0.0
        forEachRange { range in
            var partial: Float = 0
            for i in range { partial += grads[i] * grads[i] }
            sum += Double(partial)
        }
        let norm = sum.squareRoot()
        if norm > maxNorm {
            let scale = Float(maxNorm / (norm + 1e-6))
            forEachRange { range in for i in range { grads[i] *= scale } }
        }
        return norm
    }
}
