/// What the epoch loop owns and every training step reads or changes: the weights, the
/// optimizer, the run's random generator (shuffles, augmentation) and the step count.
/// A checkpoint saves exactly this (with the epoch's example order), so a resumed run
/// continues bit for bit.
struct TrainingState {
    let parameters: FloatBuffer
    var optimizer: any Optimizer
    var rng: SeededGenerator
    /// Optimizer steps taken so far (over all epochs; Hogwild counts one per example).
    var step = 0
    let totalSteps: Int
    let schedule: LearningRateSchedule
}

/// What one call of a step did.
struct StepOutcome {
    /// Σ weight · loss of the examples, and Σ weight (the loss's running mean is their ratio).
    var loss = 0.0
    var weight = 0.0
    /// Examples predicted right by the forward passes the loss came from.
    var correct = 0
    var examples = 0
    /// Optimizer steps taken (TrainingState.step has already moved on by this many).
    var steps = 0
    /// The progress callback asked to stop (steps that report progress themselves).
    var cancelled = false
    /// The step whose loss was first NaN or infinite, when the step stopped there
    /// (Hogwild); nil otherwise. The epoch loop turns a non-finite `loss` into
    /// TM_ERR_DIVERGED (Divergence).
    var nonFiniteStep: Int? = nil
}

/// How a training run turns examples into weight updates. The trainer keeps the epoch
/// loop and its hooks (validation, early stopping, checkpoints, progress, cancel, the
/// learning-rate schedule); a step does the rest:
///
///   DataParallelStep  a batch split across threads, gradients summed in thread order,
///                     clipped, then one optimizer update (deterministic for a seed and
///                     thread count)
///   HogwildStep       the bag model's lock-free per-example SGD on shared weights
///   DPSGDStep         DP-SGD (training.privacy): Poisson-sampled batches, per-example
///                     gradients clipped to C, Gaussian noise, an RDP accountant
///
///   ParameterExchangeStep  any of these, its parameters handed to a ParameterExchange
///                     (e.g. averaged with other processes') between its runs
///
/// A new way to train (per-example clipped and noised gradients, gradients exchanged
/// with other processes) is one more conforming type; the loop does not change.
protocol TrainingStep {
    /// Threads the step runs on (reported as the run's threads).
    var threads: Int { get }
    /// Examples of the epoch's shuffled order one `run` takes: a batch, or the whole
    /// epoch for steps that divide it among their threads themselves.
    var examplesPerCall: Int { get }
    /// True if `run` calls the progress handler itself (mid-epoch); otherwise the loop
    /// reports after each `run` when a progress_every boundary has passed.
    var reportsProgress: Bool { get }

    /// Trains on `examples` (indices into the training set, as EpochLoop holds them), updating `state`.
    /// `progress(step, runningLoss)` returns true to cancel (steps that report).
    mutating func run(_ examples: ArraySlice<Int32>, epoch: Int, state: inout TrainingState,
                      progress: (_ step: Int, _ runningLoss: Double) -> Bool) throws -> StepOutcome

    /// What `steps` steps of a differentially private step have spent (DPSGDStep); nil
    /// for steps without a privacy guarantee.
    func privacySpent(steps: Int) -> PrivacyRecord?

    /// Examples one step takes (on average), for the progress rate of steps that report
    /// progress themselves: 1 for Hogwild, the expected batch for DP-SGD.
    var examplesPerStep: Int { get }
}

extension TrainingStep {
    func privacySpent(steps: Int) -> PrivacyRecord? { nil }
    var examplesPerStep: Int { 1 }
}
