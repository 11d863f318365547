#if canImport(Glibc)
import Glibc
#endif

/// What the loss of one batch compares predictions with: a target class per row
/// (single-label) or target values per row and output (multi-label: 0/1 per label;
/// regression: the standardised number), optional per-row weights (class weights),
/// label smoothing ε (the target becomes (1−ε)·onehot + ε/C) and an overall scale
/// (1 / the batch's total weight, so the gradient is of the weighted mean loss).
struct LossTargets {
    var targets: UnsafePointer<Int32>? = nil
    var values: UnsafePointer<Float>? = nil
    var weights: UnsafePointer<Float>? = nil
    var smoothing: Float = 0
    var scale: Float = 1

    func weight(_ row: Int) -> Float { weights?[row] ?? 1 }
}

/// Softmax over classes and the cross-entropy loss. Shapes: logits/probs [N × C].
enum SoftmaxCrossEntropy {
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

    /// Sum over rows of -log p[target]; probabilities are floored so a confident mistake
    /// gives a large finite loss rather than infinity.
    static func loss(probs: UnsafePointer<Float>, targets: UnsafePointer<Int32>, rows: Int, classes: Int) -> Double {
        var total = 0.0
        for r in 0..<rows {
            total -= Double(logf(max(probs[r * classes + Int(targets[r])], 1e-30)))
        }
        return total
    }

    /// Σ over rows of weight · −Σ_j q_j log p_j with q the smoothed target (unscaled).
    static func loss(probs: UnsafePointer<Float>, rows: Int, classes: Int, loss: LossTargets) -> Double {
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
    static func backward(probs: UnsafePointer<Float>, rows: Int, classes: Int, loss: LossTargets,
                         dLogits: UnsafeMutablePointer<Float>) {
        guard let targets = loss.targets else { return }
        let uniform = loss.smoothing / Float(classes)
        for r in 0..<rows {
            let s = loss.weight(r) * loss.scale
            for j in 0..<classes { dLogits[r * classes + j] = (probs[r * classes + j] - uniform) * s }
            dLogits[r * classes + Int(targets[r])] -= (1 - loss.smoothing) * s
        }
    }

    /// Plain cross-entropy gradient: dLogits = (p − onehot(target)) · scale.
    static func backward(probs: UnsafePointer<Float>, targets: UnsafePointer<Int32>, rows: Int, classes: Int,
                         scale: Float, dLogits: UnsafeMutablePointer<Float>) {
        backward(probs: probs, rows: rows, classes: classes, loss: LossTargets(targets: targets, scale: scale), dLogits: dLogits)
    }
}
