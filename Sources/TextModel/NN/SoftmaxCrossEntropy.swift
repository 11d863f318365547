#if canImport(Glibc)
import Glibc
#endif

/// Softmax over classes and the cross-entropy loss. Shapes: logits/probs [N × C].
enum SoftmaxCrossEntropy {
    /// Row-wise softmax, numerically stable (max subtracted).
    static func softmax(logits: UnsafePointer<Float>, rows: Int, classes: Int, probs: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let z = logits + r * classes
            let p = probs + r * classes
            var m = z[0]
            for j in 1..<max(classes, 1) where z[j] > m { m = z[j] }
            var sum: Float = 0
            for j in 0..<classes {
                p[j] = expf(z[j] - m)
                sum += p[j]
            }
            let inv = 1 / sum
            for j in 0..<classes { p[j] *= inv }
        }
    }

    /// Sum over rows of -log p[target]; probabilities are floored so a confident mistake
    /// gives a large finite loss rather than infinity.
    static func loss(probs: UnsafePointer<Float>, targets: UnsafePointer<Int32>, rows: Int, classes: Int) -> Double {
        var total = 0.0
        for r in 0..<rows {
            total -= Double(logf(max(probs[r * classes + Int(targets[r])], 1e-30)))
        }
        return total
    }

    /// dLogits = (p - onehot(target)) · scale, scale being 1 / (examples in the whole batch).
    static func backward(probs: UnsafePointer<Float>, targets: UnsafePointer<Int32>, rows: Int, classes: Int,
                         scale: Float, dLogits: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            for j in 0..<classes { dLogits[r * classes + j] = probs[r * classes + j] * scale }
            dLogits[r * classes + Int(targets[r])] -= scale
        }
    }
}
