/// Stops a training run whose numbers stop being finite, with TM_ERR_DIVERGED and a
/// message that names where (epoch, step) and what to change.
///
/// Where it looks, and why that is enough without slowing the hot loop:
///   - the loss of every step (one Double per step; Hogwild: per example), which the
///     steps compute anyway. A NaN or infinite weight or gradient that a forward pass
///     reads shows up there one step later: every dense weight (output layer,
///     encoder) is read by every step, an embedding row by every text that holds it;
///   - the gradient norm, when training.clip_norm computes one anyway;
///   - every weight at the end of each epoch (each Hogwild epoch is one chunk), one
///     pass over the buffer, before validation, early stopping and the checkpoint:
///     it catches what no later text read (multi-label sigmoids map a NaN logit to a
///     finite loss; embedding rows of rare words), so no NaN weight is ever
///     checkpointed, kept as "best" or handed to the model.
/// No per-step pass over the gradient or the weights: that would cost O(weights) per
/// step, as much as a sparse step's whole work.
///
/// The run then fails; Model.train leaves the model as it was before the call
/// (untrained on a first training), as for any other training error.
struct Divergence {
    let config: Config

    /// Throws if a step's loss (Σ weight · loss) is not finite.
    func checkLoss(_ loss: Double, epoch: Int, step: Int) throws {
        guard !loss.isFinite else { return }
        throw error("the training loss became \(describe(loss)) at epoch \(epoch), step \(step)")
    }

    /// Throws if a gradient norm (computed for clipping) is not finite.
    func checkGradientNorm(_ norm: Double, epoch: Int, step: Int) throws {
        guard !norm.isFinite else { return }
        throw error("the gradient's norm became \(describe(norm)) at epoch \(epoch), step \(step)")
    }

    /// Throws if any of the `count` weights is NaN or infinite.
    func checkWeights(_ weights: UnsafePointer<Float>, count: Int, epoch: Int, step: Int) throws {
        guard let index = Divergence.firstNonFinite(weights, count: count) else { return }
        throw error("weight \(index) of \(count) became \(describe(Double(weights[index]))) during epoch \(epoch) (checked after step \(step))")
    }

    /// Index of the first NaN or infinite value, or nil. x·0 is 0 for every finite x
    /// and NaN otherwise, so the sum over a block vectorises and branches once per block.
    static func firstNonFinite(_ values: UnsafePointer<Float>, count: Int) -> Int? {
        let block = 4096
        var start = 0
        while start < count {
            let end = min(start + block, count)
            var probe: Float = 0
            for i in start..<end { probe += values[i] * 0 }
            if probe.isNaN {
                for i in start..<end where !values[i].isFinite { return i }
            }
            start = end
        }
        return nil
    }

    private func describe(_ x: Double) -> String { x.isNaN ? "NaN" : "infinite" }

    private func error(_ what: String) -> TextModelError {
        let t = config.training
        var advice = "lower training.learning_rate (now \(t.learningRate))"
        if t.clipNorm == 0 && !t.hogwild {
            advice += " or set training.clip_norm (e.g. 1.0)"
        }
        return TextModelError(.diverged, "training diverged: \(what). Training stopped and its weights were discarded: the model is as it was before this training call (untrained if it never was trained). To fix it, \(advice)")
    }
}
