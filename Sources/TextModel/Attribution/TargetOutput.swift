/// The number an attribution explains, f, read from one text's logits z [C] and
/// outputs [C], and its gradient with respect to z, which the backward pass carries to
/// the input embeddings.
///
///   single-label probability  f = softmax(z)_c     ∂f/∂z_j = p_c (δ_cj − p_j)
///   multi-label probability   f = σ(z_c)           ∂f/∂z_c = p_c (1 − p_c)
///   logit (both)              f = z_c              ∂f/∂z_c = 1
///   regression                f = z·std + mean     ∂f/∂z   = std  (the targets' units)
struct TargetOutput {
    let task: Config.Task
    let output: AttributionOutput
    let scaling: TargetScaling
    let classes: Int

    func value(logits z: UnsafePointer<Float>, outputs p: UnsafePointer<Float>, target c: Int) -> Double {
        if task == .regression { return Double(z[0]) * scaling.std + scaling.mean }
        return output == .logit ? Double(z[c]) : Double(p[c])
    }

    /// Writes ∂f/∂z [C] into `d`.
    func gradient(outputs p: UnsafePointer<Float>, target c: Int, into d: UnsafeMutablePointer<Float>) {
        d.update(repeating: 0, count: classes)
        switch (task, output) {
        case (.regression, _):
            d[0] = Float(scaling.std)
        case (_, .logit):
            d[c] = 1
        case (.singleLabel, .probability):
            for j in 0..<classes { d[j] = -p[c] * p[j] }
            d[c] += p[c]
        case (.multiLabel, .probability):
            d[c] = p[c] * (1 - p[c])
        }
    }
}
