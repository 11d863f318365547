/// The epochs of one training run around a TrainingStep: shuffling, progress reports
/// and cancelling, then at each epoch's end validation, early stopping, the epoch's
/// report and a checkpoint. It never looks inside a step.
struct EpochLoop {
    let trainer: Trainer
    let network: Network
    let set: TrainingSet
    /// One per thread: the data-parallel step's, and validation's.
    let workspaces: [Workspace]
    let started: Double
    var stopper: EarlyStopping?

    private var config: Config { trainer.config }
    private var divergence: Divergence { Divergence(config: trainer.config) }
    /// Every weight but the embedding table's.
    private var denseRanges: [Range<Int>] {
        let table = network.embeddingTensor, count = network.layout.count
        return [0..<table.offset, (table.offset + table.count)..<count]
    }
    /// The epoch's shuffled example indices, as Int32: 4 B a training example rather than
    /// Int's 8, the one array the loop holds per example (checkpoints store it as I32
    /// already). Trainer refuses sets of more than Int32.max examples.
    private var order: [Int32]
    private var firstEpoch = 1
    /// Training time of the run a checkpoint continues.
    private var secondsBefore = 0.0
    private var examplesSeen = 0
    /// Progress rates count this run's examples only.
    private var examplesBefore = 0
    /// What a checkpoint of this run is checked against; the data's CRC reads every
    /// encoded token, so only runs that checkpoint pay for it.
    private let identity: TrainingCheckpoint.Identity?
    /// Training driven one epoch range at a time: where it starts and stops.
    let continuation: TrainingContinuation?
    /// The run's state after its last epoch, when it runs as a continuation.
    private(set) var stateOut: [UInt8]?

    init(trainer: Trainer, network: Network, set: TrainingSet, workspaces: [Workspace], started: Double, stopper: EarlyStopping?,
         continuation: TrainingContinuation? = nil) {
        self.trainer = trainer
        self.network = network
        self.set = set
        self.workspaces = workspaces
        self.started = started
        self.stopper = stopper
        self.continuation = continuation
        order = Array(0..<Int32(truncatingIfNeeded: set.examples.count))
        let config = trainer.config
        identity = config.training.checkpointPath == nil && continuation == nil ? nil
            : TrainingCheckpoint.Identity(config: config.checkpointIdentity.serialized, data: set.fingerprint())
    }

    /// With training.resume and an existing checkpoint: continues after its epoch, with
    /// its weights, optimizer state, generator, example order and early-stopping record.
    /// A continuation's state, if it has one, comes first and the checkpoint file is not read.
    mutating func resumeIfAsked(_ state: inout TrainingState, report: inout TrainingReport) throws {
        let t = config.training
        let checkpoint: TrainingCheckpoint
        if let identity = identity, let bytes = continuation?.state {
            checkpoint = try TrainingCheckpoint.load(bytes: bytes, source: "the training state", identity: identity,
                                                     parameters: state.parameters, count: network.layout.count, order: &order,
                                                     optimizer: &state.optimizer, best: stopper?.bestWeights)
        } else {
            guard t.resume, let path = t.checkpointPath, let identity = identity, FileIO.exists(path) else { return }
            checkpoint = try TrainingCheckpoint.load(from: path, identity: identity, parameters: state.parameters,
                                                     count: network.layout.count, order: &order,
                                                     optimizer: &state.optimizer, best: stopper?.bestWeights,
                                                     maxMemoryMB: t.maxMemoryMB)
        }
        if let s = checkpoint.earlyStopping { stopper?.state = s }
        state.step = checkpoint.step
        state.rng = checkpoint.rng
        examplesSeen = checkpoint.examplesSeen
        examplesBefore = examplesSeen
        report.epochs = checkpoint.epochs
        report.resumedFromEpoch = checkpoint.epoch
        secondsBefore = checkpoint.seconds
        firstEpoch = checkpoint.epoch + 1
        // A run that had stopped early stays stopped.
        if let s = checkpoint.earlyStopping, s.bestEpoch > 0, s.epochsWithoutImprovement >= t.patience {
            firstEpoch = t.epochs + 1
            report.stoppedEarly = checkpoint.epoch < t.epochs
        }
    }

    mutating func run(_ step: inout any TrainingStep, state: inout TrainingState, report: inout TrainingReport) throws {
        let t = config.training
        // Regression trains on standardised targets; its losses are reported in the
        // data's own units (squared), comparable with the validation loss.
        let lossUnit = set.scaling.std * set.scaling.std
        let totalSteps = state.totalSteps
        for epoch in stride(from: firstEpoch, through: min(t.epochs, continuation?.lastEpoch ?? t.epochs), by: 1) {
            let epochStart = Clock.now()
            state.rng.shuffle(&order)
            var totals = StepOutcome()   // the epoch's so far
            var start = 0
            while start < order.count {
                let end = start + min(step.examplesPerCall, order.count - start)
                let chunk = order[start..<end]
                start = end
                let stepBefore = state.step, seenBefore = examplesSeen - examplesBefore, perStep = step.examplesPerStep
                let outcome = try step.run(chunk, epoch: epoch, state: &state) { [self] reached, runningLoss in
                    reportStep(epoch: epoch, step: reached, runningLoss: runningLoss,
                               examples: seenBefore + (reached - stepBefore) * perStep, totalSteps: totalSteps)
                }
                try divergence.checkLoss(outcome.loss, epoch: epoch, step: outcome.nonFiniteStep ?? state.step)
                totals.loss += outcome.loss
                totals.weight += outcome.weight
                totals.correct += outcome.correct
                totals.examples += outcome.examples
                examplesSeen += outcome.examples
                if outcome.cancelled { report.cancelled = true; return }
                if !step.reportsProgress,
                   state.step % t.progressEvery == 0 || state.step == state.totalSteps,
                   reportStep(epoch: epoch, step: state.step, runningLoss: lossUnit * totals.loss / totals.weight,
                              examples: examplesSeen - examplesBefore, totalSteps: totalSteps) {
                    report.cancelled = true
                    return
                }
            }
            // Before validation, early stopping and the checkpoint see these weights: all
            // of them when those copy them anyway, else the dense ones (Divergence).
            let copiesWeights = t.checkpointPath != nil || stopper != nil
            try divergence.checkWeights(state.parameters.pointer, count: network.layout.count,
                                        ranges: copiesWeights ? nil : denseRanges, epoch: epoch, step: state.step)
            var epochReport = TrainingReport.Epoch(epoch: epoch, trainLoss: lossUnit * totals.loss / max(totals.weight, 1e-30),
                                                   validLoss: nil, validAccuracy: nil, seconds: 0)
            if set.targets.task != .regression && totals.examples > 0 {
                epochReport.trainAccuracy = Double(totals.correct) / Double(totals.examples)
            }
            epochReport.epsilon = step.privacySpent(steps: state.step)?.epsilon
            let stop = try validate(epoch: epoch, state: state, into: &epochReport)
            epochReport.seconds = Clock.now() - epochStart
            report.epochs.append(epochReport)
            if let path = t.checkpointPath, let identity = identity {
                try checkpoint(epoch: epoch, state: state, report: report)
                    .save(to: path, identity: identity, parameters: state.parameters, count: network.layout.count,
                          order: order, optimizer: state.optimizer, best: stopper?.bestWeights)
            }
            if continuation != nil { stateOut = encodedState(epoch: epoch, state: state, report: report) }
            if reportEpoch(epochReport, state: state) && epoch < t.epochs {
                report.cancelled = true
                return
            }
            if stop {
                report.stoppedEarly = epoch < t.epochs
                return
            }
        }
    }

    /// The run's state after `epoch` (0: before the first), as a checkpoint.
    private func checkpoint(epoch: Int, state: TrainingState, report: TrainingReport) -> TrainingCheckpoint {
        TrainingCheckpoint(epoch: epoch, step: state.step, examplesSeen: examplesSeen,
                           seconds: secondsBefore + Clock.now() - started, rng: state.rng,
                           earlyStopping: stopper?.state, epochs: report.epochs)
    }

    /// A continuation's state after `epoch` as bytes; the state now, after the epochs
    /// already done, for a call that ran none (e.g. lastEpoch 0: the initial weights).
    func encodedState(epoch: Int? = nil, state: TrainingState, report: TrainingReport) -> [UInt8]? {
        guard let identity = identity else { return nil }
        return checkpoint(epoch: epoch ?? firstEpoch - 1, state: state, report: report)
            .encoded(identity: identity, parameters: state.parameters, count: network.layout.count,
                     order: order, optimizer: state.optimizer, best: stopper?.bestWeights)
    }

    /// Validation metrics into the epoch's report, and early stopping's verdict.
    private mutating func validate(epoch: Int, state: TrainingState, into epochReport: inout TrainingReport.Epoch) throws -> Bool {
        guard !set.validExamples.isEmpty else { return false }
        let v = try trainer.validate(network: network, parameters: state.parameters.pointer, labels: set.labels,
                                     scaling: set.scaling, examples: set.validExamples, targets: set.validTargets,
                                     workspaces: workspaces)
        epochReport.validLoss = v.loss
        epochReport.validAccuracy = v.accuracy
        epochReport.validMacroF1 = v.macroF1
        guard var watcher = stopper else { return false }
        // Config checks that a regression model stops on valid_loss only.
        let metric = config.training.earlyStopping
        let value: Double
        switch metric {
        case .validLoss, .none: value = v.loss
        case .validAccuracy: value = v.accuracy ?? 0
        case .validMacroF1: value = v.macroF1 ?? 0
        }
        let stop = watcher.record(epoch: epoch, value: value, parameters: state.parameters.pointer)
        stopper = watcher
        return stop
    }

    /// A step report to the progress callback; true if it asks to cancel.
    private func reportStep(epoch: Int, step: Int, runningLoss: Double, examples: Int, totalSteps: Int) -> Bool {
        guard let progress = trainer.progress else { return false }
        let elapsed = Clock.now() - started
        let rate = Double(examples) / max(elapsed, 1e-9)
        let remaining = Double(totalSteps - step) * Double(config.training.batchSize)
        return progress(TrainingProgress(kind: .step, epoch: epoch, epochs: config.training.epochs, step: step,
                                         totalSteps: totalSteps, runningLoss: runningLoss, examplesPerSecond: rate,
                                         etaSeconds: remaining / max(rate, 1e-9), elapsedSeconds: elapsed))
    }

    /// The epoch's report to the progress callback; true if it asks to cancel.
    private func reportEpoch(_ e: TrainingReport.Epoch, state: TrainingState) -> Bool {
        guard let progress = trainer.progress else { return false }
        let elapsed = Clock.now() - started
        let rate = Double(examplesSeen - examplesBefore) / max(elapsed, 1e-9)
        var p = TrainingProgress(kind: .epoch, epoch: e.epoch, epochs: config.training.epochs, step: state.step,
                                 totalSteps: state.totalSteps, runningLoss: e.trainLoss, examplesPerSecond: rate,
                                 etaSeconds: Double(state.totalSteps - state.step) * Double(config.training.batchSize) / max(rate, 1e-9),
                                 elapsedSeconds: elapsed)
        p.trainLoss = e.trainLoss
        p.trainAccuracy = e.trainAccuracy ?? .nan
        p.validLoss = e.validLoss ?? .nan
        p.validAccuracy = e.validAccuracy ?? .nan
        p.epsilon = e.epsilon ?? .nan
        return progress(p)
    }
}
