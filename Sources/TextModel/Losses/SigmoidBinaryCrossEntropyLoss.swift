#if canImport(Glibc)
import Glibc
#endif

/// Multi-label: an independent sigmoid probability per label and binary cross-entropy
/// summed over the W labels. Targets are `values` (0 or 1 per row and label).
struct SigmoidBinaryCrossEntropyLoss: Loss {
    func activate(logits: UnsafePointer<Float>, rows: Int, width: Int, outputs: UnsafeMutablePointer<Float>) {
        // NaN scores (a damaged model) predict "no"; ±∞ saturate as they should.
        for i in 0..<rows * width { outputs[i] = logits[i].isNaN ? 0 : 1 / (1 + expf(-logits[i])) }
    }

    /// Probabilities are floored at 1e-30 on both sides, so a confident mistake costs a
    /// large finite loss.
    func loss(outputs: UnsafePointer<Float>, rows: Int, width: Int, targets: LossTargets) -> Double {
        guard let y = targets.values else { return 0 }
        var total = 0.0
        for r in 0..<rows {
            var row = 0.0
            for j in 0..<width {
                let p = outputs[r * width + j], t = y[r * width + j]
                row += -(Double(t) * Double(logf(max(p, 1e-30))) + Double(1 - t) * Double(logf(max(1 - p, 1e-30))))
            }
            total += Double(targets.weight(r)) * row
        }
        return total
    }

    /// dLogits = (p − y) · weight · scale: binary cross-entropy through a sigmoid has the
    /// same simple gradient as softmax cross-entropy.
    func backward(outputs: UnsafePointer<Float>, rows: Int, width: Int, targets: LossTargets,
                  dLogits: UnsafeMutablePointer<Float>) {
        independentOutputsBackward(outputs: outputs, rows: rows, width: width, targets: targets, factor: 1, dLogits: dLogits)
    }

    /// Rows whose every label's "probability ≥ threshold" agrees with the target
    /// (subset accuracy).
    func correct(outputs: UnsafePointer<Float>, rows: Int, width: Int, targets: LossTargets, threshold: Double) -> Int {
        guard let y = targets.values else { return 0 }
        var n = 0
        for r in 0..<rows {
            var all = true
            for j in 0..<width where (Double(outputs[r * width + j]) >= threshold) != (y[r * width + j] > 0.5) {
                all = false
                break
            }
            if all { n += 1 }
        }
        return n
    }
}

/// dLogits = factor · (output − y) · weight · scale for losses whose outputs are
/// independent of each other (binary cross-entropy through a sigmoid: factor 1;
/// squared error of an identity output: factor 2). Zeros without target values.
func independentOutputsBackward(outputs: UnsafePointer<Float>, rows: Int, width: Int, targets: LossTargets,
                                factor: Float, dLogits: UnsafeMutablePointer<Float>) {
    guard let y = targets.values else {
        dLogits.update(repeating: 0, count: rows * width)
        return
    }
    for r in 0..<rows {
        let s = factor * targets.weight(r) * targets.scale
        for j in 0..<width { dLogits[r * width + j] = (outputs[r * width + j] - y[r * width + j]) * s }
    }
}
