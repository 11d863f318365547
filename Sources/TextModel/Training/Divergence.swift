/// Stops a training run whose numbers stop being finite, with TM_ERR_DIVERGED and a
/// message that names where (epoch, step) and what to change.
///
/// Where it looks, and why that is enough without slowing the hot loop:
///   - the loss of every step (one Double per step; Hogwild: per example), which the
///     steps compute anyway. A NaN or infinite weight or gradient that a forward pass
///     reads shows up there one step later: every dense weight (output layer,
///     encoder) is read by every step, an embedding row by every text that holds it;
///   - the gradient norm, when training.clip_norm computes one anyway;
///   - at the end of each epoch (each Hogwild epoch is one chunk), before validation,
///     early stopping and the checkpoint, the dense weights (all but the embedding
///     table: the encoder and output layer, which every step reads and writes). They
///     catch what the loss hides: softmax and the sigmoids map NaN logits to finite
///     losses, so a diverged classifier shows only in its weights; a NaN embedding
///     row that any text reads reaches the output layer's gradient and so these;
///   - every weight, the table too, when the epoch's weights are about to be copied
///     anyway (a checkpoint, early stopping's record) and once when training ends, so
///     no NaN weight is ever checkpointed, kept as "best" or handed to the model.
/// No per-step pass over the gradient or the weights, and no per-epoch pass over the
/// table (the bag's is 20 M floats, more than an epoch of a small data set costs):
/// each full pass comes with an O(weights) copy or initialisation the run makes anyway.
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

    /// Throws if any weight in `ranges` (of the `count`) is NaN or infinite.
    func checkWeights(_ weights: UnsafePointer<Float>, count: Int, ranges: [Range<Int>]? = nil, epoch: Int, step: Int) throws {
        for range in ranges ?? [0..<count] {
            guard let k = Divergence.firstNonFinite(weights + range.lowerBound, count: range.count) else { continue }
            let index = range.lowerBound + k
            throw error("weight \(index) of \(count) became \(describe(Double(weights[index]))) during epoch \(epoch) (checked after step \(step))")
        }
    }

    /// Index of the first NaN or infinite value, or nil. A float is NaN or infinite
    /// exactly when its exponent bits are all ones; the largest exponent field of a
    /// block is an integer max, which vectorises (a float sum would not: its order is
    /// fixed), and the block is searched only when it holds one.
    static func firstNonFinite(_ values: UnsafePointer<Float>, count: Int) -> Int? {
        let exponent: UInt32 = 0x7F80_0000, block = 4096
        return UnsafeRawPointer(values).withMemoryRebound(to: UInt32.self, capacity: count) { bits in
            var start = 0
            while start < count {
                let end = min(start + block, count)
                var largest: UInt32 = 0
                for i in start..<end { largest = max(largest, bits[i] & exponent) }
                if largest == exponent {
                    for i in start..<end where bits[i] & exponent == exponent { return i }
                }
                start = end
            }
            return nil
        }
    }

    private func describe(_ x: Double) -> String { x.isNaN ? "NaN" : "infinite" }

    private func error(_ what: String) -> TextModelError {
        let t = config.training
        var advice = "lower training.learning_rate (now \(t.learningRate))"
        if t.clipNorm == 0 && !config.usesHogwild {
            advice += " or set training.clip_norm (e.g. 1.0)"
        }
        return TextModelError(.diverged, "training diverged: \(what). Training stopped and its weights were discarded: the model is as it was before this training call (untrained if it never was trained). To fix it, \(advice)")
    }
}
