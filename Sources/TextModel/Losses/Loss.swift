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

/// The last step of every network, chosen by model.task: it turns the output layer's
/// scores (logits [B × W]) into what the model predicts, and gives the loss and its
/// gradient against LossTargets. Training, validation and evaluation all take their
/// loss from here, so there is one formula per task.
protocol Loss {
    /// outputs = activation(logits), [rows × width].
    func activate(logits: UnsafePointer<Float>, rows: Int, width: Int, outputs: UnsafeMutablePointer<Float>)

    /// Σ over rows of weight · loss(row), unscaled (`targets.scale` is for gradients).
    func loss(outputs: UnsafePointer<Float>, rows: Int, width: Int, targets: LossTargets) -> Double

    /// dLogits [rows × width] of `scale · Σ weight · loss(row)`, written.
    func backward(outputs: UnsafePointer<Float>, rows: Int, width: Int, targets: LossTargets,
                  dLogits: UnsafeMutablePointer<Float>)

    /// Rows whose prediction is right (training accuracy, counted on the outputs the
    /// loss already read); `threshold` is multi-label's decision threshold.
    func correct(outputs: UnsafePointer<Float>, rows: Int, width: Int, targets: LossTargets, threshold: Double) -> Int
}
