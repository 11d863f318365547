#if canImport(Glibc)
import Glibc
#endif

/// Single-label: softmax over the C classes and cross-entropy (with optional label
/// smoothing and class weights). Shapes: logits/probs [N × C].
struct SoftmaxCrossEntropyLoss: Loss {
    func activate(logits: UnsafePointer<Float>, rows: Int, width: Int, outputs: UnsafeMutablePointer<Float>) {
        SoftmaxCrossEntropyLoss.softmax(logits: logits, rows: rows, classes: width, probs: outputs)
    }

    /// Row-wise softmax, numerically stable (max subtracted). Always yields a probability
    /// distribution, even from a damaged model whose scores overflowed: NaN scores count
    /// as impossible, +∞ scores share the mass, and a row with no usable score is uniform.
    static func softmax(logits: UnsafePointer<Float>, rows: Int, classes: Int, probs: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let z = logits + r * classes
            let p = probs + r * classes
            var m = -Float.infinity
            for j in 0..<classes where z[j] > m { m = z[j] }   // NaN never compares greater
            if m == -.infinity {
                for j in 0..<classes { p[j] = 1 / Float(classes) }
                continue
            }
            if m == .infinity {
                var winners: Float = 0
                for j in 0..<classes where z[j] == .infinity { winners += 1 }
                for j in 0..<classes { p[j] = z[j] == .infinity ? 1 / winners : 0 }
                continue
            }
            var sum: Float = 0
            for j in 0..<classes {
                p[j] = z[j].isNaN ? 0 : expf(z[j] - m)
                sum += p[j]
            }
            let inv = 1 / sum
            for j in 0..<classes { p[j] *= inv }
        }
    }

    /// Σ over rows of weight · −Σ_j q_j log p_j with q the smoothed target (unscaled).
    /// Probabilities are floored at 1e-30 so a confident mistake costs a large finite
    /// loss rather than infinity.
    func loss(outputs probs: UnsafePointer<Float>, rows: Int, width classes: Int, targets loss: LossTargets) -> Double {
        guard let targets = loss.targets else { return 0 }
        let eps = Double(loss.smoothing)
        var total = 0.0
        for r in 0..<rows {
            let p = probs + r * classes
            var row = -(1 - eps) * Double(logf(max(p[Int(targets[r])], 1e-30)))
            if eps > 0 {
                var sumLog = 0.0
                for j in 0..<classes { sumLog += Double(logf(max(p[j], 1e-30))) }
                row -= eps / Double(classes) * sumLog
            }
            total += Double(loss.weight(r)) * row
        }
        return total
    }

    /// dLogits = (p − q) · weight · scale, the gradient of the weighted, scaled loss.
    func backward(outputs probs: UnsafePointer<Float>, rows: Int, width classes: Int, targets loss: LossTargets,
                  dLogits: UnsafeMutablePointer<Float>) {
        guard let targets = loss.targets else {
            dLogits.update(repeating: 0, count: rows * classes)
            return
        }
        let uniform = loss.smoothing / Float(classes)
        for r in 0..<rows {
            let s = loss.weight(r) * loss.scale
            for j in 0..<classes { dLogits[r * classes + j] = (probs[r * classes + j] - uniform) * s }
            dLogits[r * classes + Int(targets[r])] -= (1 - loss.smoothing) * s
        }
    }

    /// Rows whose most probable class is the target.
    func correct(outputs: UnsafePointer<Float>, rows: Int, width: Int, targets: LossTargets, threshold: Double) -> Int {
        guard let t = targets.targets else { return 0 }
        var n = 0
        for r in 0..<rows where argmax(outputs + r * width, width) == Int(t[r]) { n += 1 }
        return n
    }
}
