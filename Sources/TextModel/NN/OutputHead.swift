#if canImport(Glibc)
import Glibc
#endif

/// The last step of every network, chosen by model.task: it turns the output layer's
/// scores (logits [N × W]) into what the model predicts, and gives the loss and its
/// gradient against LossTargets.
///
///   softmax   single-label: probabilities over W classes; cross-entropy
///   sigmoid   multi-label: an independent probability per label; binary
///             cross-entropy summed over the W labels
///   identity  regression: the score itself (W = 1); squared error
enum OutputHead {
    case softmax, sigmoid, identity

    init(task: Config.Task) {
        switch task {
        case .singleLabel: self = .softmax
        case .multiLabel: self = .sigmoid
        case .regression: self = .identity
        }
    }

    /// outputs = head(logits), [rows × width].
    func activate(logits: UnsafePointer<Float>, rows: Int, width: Int, outputs: UnsafeMutablePointer<Float>) {
        switch self {
        case .softmax:
            SoftmaxCrossEntropy.softmax(logits: logits, rows: rows, classes: width, probs: outputs)
        case .sigmoid:
            // NaN scores (a damaged model) predict "no"; ±∞ saturate as they should.
            for i in 0..<rows * width { outputs[i] = logits[i].isNaN ? 0 : 1 / (1 + expf(-logits[i])) }
        case .identity:
            outputs.update(from: logits, count: rows * width)
        }
    }

    /// Σ over rows of weight · loss(row), unscaled. Probabilities are floored at 1e-30
    /// so a confident mistake costs a large finite loss rather than infinity.
    func loss(outputs: UnsafePointer<Float>, rows: Int, width: Int, targets: LossTargets) -> Double {
        switch self {
        case .softmax:
            return SoftmaxCrossEntropy.loss(probs: outputs, rows: rows, classes: width, loss: targets)
        case .sigmoid, .identity:
            guard let y = targets.values else { return 0 }
            var total = 0.0
            for r in 0..<rows {
                var row = 0.0
                for j in 0..<width { row += elementLoss(output: outputs[r * width + j], target: y[r * width + j]) }
                total += Double(targets.weight(r)) * row
            }
            return total
        }
    }

    /// Rows whose prediction is right: argmax equals the target class (softmax), or
    /// every label's "probability ≥ threshold" agrees with the target (sigmoid, subset
    /// accuracy). Always 0 for identity: regression has no accuracy. The trainer counts
    /// it on the outputs the loss already read, so training accuracy costs one pass
    /// over them and no second forward pass.
    func correct(outputs: UnsafePointer<Float>, rows: Int, width: Int, targets: LossTargets, threshold: Double) -> Int {
        var n = 0
        switch self {
        case .softmax:
            guard let t = targets.targets else { return 0 }
            for r in 0..<rows where argmax(outputs + r * width, width) == Int(t[r]) { n += 1 }
        case .sigmoid:
            guard let y = targets.values else { return 0 }
            for r in 0..<rows {
                var all = true
                for j in 0..<width where (Double(outputs[r * width + j]) >= threshold) != (y[r * width + j] > 0.5) {
                    all = false
                    break
                }
                if all { n += 1 }
            }
        case .identity:
            break
        }
        return n
    }

    /// One output's loss for the heads whose outputs are independent: binary
    /// cross-entropy (sigmoid) or squared error (identity).
    private func elementLoss(output p: Float, target t: Float) -> Double {
        if self == .identity {
            let e = Double(p) - Double(t)
            return e * e
        }
        return -(Double(t) * Double(logf(max(p, 1e-30))) + Double(1 - t) * Double(logf(max(1 - p, 1e-30))))
    }

    /// dLogits of `scale · Σ weight · loss(row)`: (p − q) for softmax and sigmoid (their
    /// cross-entropies have that same simple gradient), 2 (ŷ − y) for squared error.
    func backward(outputs: UnsafePointer<Float>, rows: Int, width: Int, targets: LossTargets,
                  dLogits: UnsafeMutablePointer<Float>) {
        switch self {
        case .softmax:
            SoftmaxCrossEntropy.backward(probs: outputs, rows: rows, classes: width, loss: targets, dLogits: dLogits)
        case .sigmoid, .identity:
            guard let y = targets.values else {
                dLogits.update(repeating: 0, count: rows * width)
                return
            }
            let factor: Float = self == .identity ? 2 : 1
            for r in 0..<rows {
                let s = factor * targets.weight(r) * targets.scale
                for j in 0..<width { dLogits[r * width + j] = (outputs[r * width + j] - y[r * width + j]) * s }
            }
        }
    }
}
