/// Regression: the output is the score itself (W = 1) and the loss its squared error
/// against `values`. Regression has no accuracy: `correct` is always 0.
struct SquaredErrorLoss: Loss {
    func activate(logits: UnsafePointer<Float>, rows: Int, width: Int, outputs: UnsafeMutablePointer<Float>) {
        outputs.update(from: logits, count: rows * width)
    }

    func loss(outputs: UnsafePointer<Float>, rows: Int, width: Int, targets: LossTargets) -> Double {
        guard let y = targets.values else { return 0 }
        var total = 0.0
        for r in 0..<rows {
            var row = 0.0
            for j in 0..<width {
                let e = Double(outputs[r * width + j]) - Double(y[r * width + j])
                row += e * e
            }
            total += Double(targets.weight(r)) * row
        }
        return total
    }

    /// dLogits = 2 (ŷ − y) · weight · scale.
    func backward(outputs: UnsafePointer<Float>, rows: Int, width: Int, targets: LossTargets,
                  dLogits: UnsafeMutablePointer<Float>) {
        independentOutputsBackward(outputs: outputs, rows: rows, width: width, targets: targets, factor: 2, dLogits: dLogits)
    }

    func correct(outputs: UnsafePointer<Float>, rows: Int, width: Int, targets: LossTargets, threshold: Double) -> Int { 0 }
}
