/// Any TrainingStep, with its parameters handed to a ParameterExchange between the
/// inner step's runs: after a run that crossed a multiple of `syncEvery` optimizer
/// steps, and after the run that ends an epoch (once, if both). That is the distributed
/// step the epoch loop never needs to know about: it sees one more TrainingStep.
///
/// The granularity is the inner step's run. DataParallelStep runs one optimizer step
/// per call, so the exchange comes exactly every `syncEvery` steps. HogwildStep runs a
/// whole epoch per call (its threads divide it), so it exchanges once per epoch
/// whatever `syncEvery` is. DPSGDStep is refused (Trainer): its accountant states ε for
/// one process's rows, and weights mixed with other processes' would need a joint
/// accounting this library does not do.
struct ParameterExchangeStep: TrainingStep {
    private var inner: any TrainingStep
    private let schedule: ExchangeSchedule
    private let count: Int
    /// Rows of one epoch: the loop hands over the whole shuffled order each epoch.
    private let examplesPerEpoch: Int
    private var seenThisEpoch = 0

    init(wrapping inner: any TrainingStep, schedule: ExchangeSchedule, parameterCount: Int, examplesPerEpoch: Int) {
        self.inner = inner
        self.schedule = schedule
        count = parameterCount
        self.examplesPerEpoch = examplesPerEpoch
    }

    var threads: Int { inner.threads }
    var examplesPerCall: Int { inner.examplesPerCall }
    var reportsProgress: Bool { inner.reportsProgress }
    var examplesPerStep: Int { inner.examplesPerStep }
    func privacySpent(steps: Int) -> PrivacyRecord? { inner.privacySpent(steps: steps) }

    mutating func run(_ examples: ArraySlice<Int32>, epoch: Int, state: inout TrainingState,
                      progress: (Int, Double) -> Bool) throws -> StepOutcome {
        let before = state.step
        let outcome = try inner.run(examples, epoch: epoch, state: &state, progress: progress)
        seenThisEpoch += examples.count
        let epochEnded = seenThisEpoch >= examplesPerEpoch
        if epochEnded { seenThisEpoch = 0 }
        // A cancelled or diverged run stops training: nothing left to synchronise.
        guard !outcome.cancelled, outcome.loss.isFinite else { return outcome }
        let every = schedule.syncEvery
        let crossed = every > 0 && state.step / every != before / every
        if crossed || epochEnded { try exchange(state.parameters.pointer, at: state.step) }
        return outcome
    }

    private func exchange(_ parameters: UnsafeMutablePointer<Float>, at step: Int) throws {
        try schedule.exchange.exchange(parameters, count: count, step: step)
        // The exchanged weights are trained on next: a NaN from elsewhere is refused here,
        // where its source is known, rather than as a divergence of this run.
        if let bad = (0..<count).first(where: { !parameters[$0].isFinite }) {
            throw TextModelError.invalidArgument("the parameter exchange at step \(step) wrote \(parameters[bad]) into parameter \(bad); every parameter must stay finite")
        }
    }
}
