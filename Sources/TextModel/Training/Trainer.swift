#if canImport(Glibc)
import Glibc
#endif

/// Trains a Network: the epoch loop and its hooks (validation, early stopping,
/// checkpoints, progress, cancel, learning-rate schedule). What one step does is a
/// TrainingStep: data-parallel batches, Hogwild for the bag model (training.hogwild) or
/// DP-SGD (training.privacy), wrapped in a ParameterExchangeStep when given an exchange.
struct Trainer {
    private(set) var config: Config
    let progress: ProgressHandler?
    /// Set when training runs one epoch range at a time (training across processes).
    var continuation: TrainingContinuation? = nil
    /// Set when the parameters are exchanged with other processes during training
    /// (ParameterExchangeStep).
    var exchange: ExchangeSchedule? = nil

    struct Outcome {
        var model: TrainedModel
        var report: TrainingReport
        /// The state after the last epoch, for a continuation.
        var state: [UInt8]? = nil
    }

    func train(_ data: consuming LabelledTexts, validation: LabelledTexts?) throws -> Outcome {
        let started = Clock.now()
        // Handed over, so the raw texts are freed when TrainingSet has encoded them
        // (if the caller handed them over too) rather than held through every epoch.
        try continuation.map(checkContinuation)
        try exchange.map(checkExchange)
        let set = try TrainingSet(config: config, data: consume data, validation: validation, counts: continuation?.counts ?? exchange?.counts)
        // Those texts were a million small blocks: free()d, their pages stay with malloc
        // (and in the RSS) until trimmed, while the weights come next from fresh pages.
        Memory.returnFreePages()
        return try train(set, started: started)
    }

    /// `train` on a labelled file read in passes (TrainingSet(config:file:)), never
    /// holding all its texts; the report's seconds include reading it. Not for a
    /// continuation or an exchange, whose counts come from every process's rows.
    /// `progress` hears of the reading too (TrainingProgress.Kind.loading); a cancel then
    /// throws ReadingCancelled.
    func train(file: LabelledFile, validation: (() throws -> LabelledTexts)?) throws -> Outcome {
        let started = Clock.now()
        guard continuation == nil && exchange == nil else {
            throw TextModelError.state("training across processes takes its rows in memory, not from a file read in passes")
        }
        let set = try TrainingSet(config: config, file: file, validation: validation, progress: progress, started: started)
        Memory.returnFreePages()
        return try train(set, started: started)
    }

    private func train(_ set: TrainingSet, started: Double) throws -> Outcome {
        var report = TrainingReport()
        report.skippedEmptyText = set.skippedEmptyText
        report.skippedMissingLabel = set.skippedMissingLabel
        // The set may have sized the hash buckets to the data (BucketSizing): the
        // network, the checkpoints and the saved model take the fitted count.
        if set.tokenizer.buckets != config.tokenizer.buckets {
            var fitted = config
            fitted.tokenizer = set.tokenizer
            var trainer = self
            trainer.config = fitted
            return try trainer.train(prepared: set, report: report, started: started)
        }
        return try train(prepared: set, report: report, started: started)
    }

    /// The rest of `train`, on a set encoded for this trainer's config.
    private func train(prepared set: TrainingSet, report: TrainingReport, started: Double) throws -> Outcome {
        var report = report
        let t = config.training
        report.trainExamples = set.examples.count
        report.trainTokens = set.examples.totalLength
        report.vocabularySize = set.vocabulary.count
        report.labels = set.labels
        report.validExamples = set.validExamples.count
        report.validSkipped = set.validationSkipped
        if t.earlyStopping != .none && set.validExamples.isEmpty {
            throw TextModelError.data("training.early_stopping = \"\(t.earlyStopping.rawValue)\" needs validation data: pass a validation set or set training.validation_fraction")
        }
        let classWeights = try set.classWeights(t.classWeights)
        let network = NetworkBuilder.make(config: config, vocabularySize: set.vocabulary.count, classes: set.width)

        // Hogwild threads each take whole examples; data-parallel ones split a batch. The
        // shard's rows are encoded ids (the bag's words and n-grams), which
        // tokenizer.max_length does not bound: the encoded set's longest does.
        let hogwild = config.usesHogwild && network.input.kind == .embeddingBag
        let threads = hogwild ? Parallel.threads(t.threads) : max(1, min(Parallel.threads(t.threads), t.batchSize))
        report.threads = threads
        // DP-SGD runs one example at a time per thread (DPSGDStep).
        let shard = t.privacy != nil ? BatchShape.bound(texts: 1, longest: max(set.examples.longest, 1))
            : DataParallelStep.shardShape(batchSize: min(t.batchSize, max(set.examples.count, 1)), threads: threads,
                                          longest: set.examples.longest)
        // DP-SGD keeps two buffers per thread (an example's gradient and the clipped sum).
        try checkMemory(network: network, workers: hogwild ? 0 : (t.privacy != nil ? 2 * threads : threads), shard: shard)
        let workspaces = (0..<threads).map { _ in network.makeWorkspace() }
        if !hogwild { for ws in workspaces { try ws.prepare(for: shard) } }

        let count = network.layout.count
        let parameters = try FloatBuffer.allocate(count: count, what: "the model's weights", hugePages: true)
        var rng = SeededGenerator(seed: t.seed)
        network.initialize(parameters.pointer, rng: &rng)
        if let path = config.model.pretrainedVectors {
            let embedding = network.embeddingTensor
            report.pretrainedFound = try PretrainedVectors.load(path: path, vocabulary: set.vocabulary, dim: embedding.shape[1],
                                                                into: parameters.pointer + embedding.offset,
                                                                maxMemoryMB: t.maxMemoryMB)
        }
        var step: any TrainingStep
        if t.privacy != nil {
            step = try makePrivateStep(network: network, set: set, classWeights: classWeights, workspaces: workspaces)
        } else {
            step = hogwild
            ? try HogwildStep(config: config, network: network, set: set, classWeights: classWeights, threads: threads)
            : try DataParallelStep(config: config, network: network, set: set, classWeights: classWeights, workspaces: workspaces)
        }
        if let schedule = exchange {
            step = ParameterExchangeStep(wrapping: step, schedule: schedule, parameterCount: count,
                                         examplesPerEpoch: set.examples.count)
        }
        let stepsPerEpoch = hogwild ? set.examples.count : (set.examples.count + t.batchSize - 1) / t.batchSize
        let totalSteps = stepsPerEpoch * t.epochs
        var state = TrainingState(parameters: parameters, optimizer: try makeOptimizer(t, count: count), rng: rng,
                                  totalSteps: totalSteps,
                                  schedule: LearningRateSchedule(config: t, totalSteps: totalSteps, stepsPerEpoch: stepsPerEpoch))
        // EpochLoop holds the epoch's order as Int32 (4 B an example, not 8).
        guard set.examples.count <= Int(Int32.max) else {
            throw TextModelError.data("\(set.examples.count) training examples; at most \(Int32.max) can be trained on in one run")
        }
        var loop = EpochLoop(trainer: self, network: network, set: set, workspaces: workspaces, started: started,
                             stopper: t.earlyStopping == .none ? nil
                                : EarlyStopping(metric: t.earlyStopping, patience: t.patience,
                                                best: try FloatBuffer.allocate(count: count, what: "the best weights kept for early stopping")),
                             continuation: continuation)
        try loop.resumeIfAsked(&state, report: &report)
        if let given = continuation?.parameters {
            guard given.count == count else {
                throw TextModelError.invalidArgument("\(given.count) parameters were given to continue from; this model has \(count)")
            }
            for i in 0..<count { parameters.pointer[i] = given[i] }
        }
        try loop.run(&step, state: &state, report: &report)

        if let stopper = loop.stopper {
            stopper.restore(into: parameters.pointer)
            report.bestEpoch = stopper.bestEpoch
        }
        // A cancelled run ends mid-epoch, after the last epoch-end check: the model it
        // keeps is checked here too, so no NaN weight ever reaches a model.
        try Divergence(config: config).checkWeights(parameters.pointer, count: count,
                                                    epoch: max(report.epochs.count, 1), step: state.step)
        report.seconds = Clock.now() - started
        let model = TrainedModel(config: config, vocabulary: set.vocabulary, labels: set.labels, scaling: set.scaling,
                                 network: network, parameters: parameters)
        report.privacy = step.privacySpent(steps: state.step)
        model.privacy = report.privacy
        let stateOut = continuation == nil ? nil : loop.stateOut ?? loop.encodedState(state: state, report: report)
        return Outcome(model: model, report: report, state: stateOut)
    }

    /// What a continuation may ask (TrainingContinuation).
    private func checkContinuation(_ c: TrainingContinuation) throws {
        guard c.lastEpoch >= 0, c.lastEpoch <= config.training.epochs else {
            throw TextModelError.invalidArgument("the last epoch to train must be between 0 (none: the initial weights) and training.epochs (\(config.training.epochs)); got \(c.lastEpoch)")
        }
        if c.counts != nil && config.training.validationFraction > 0 {
            throw TextModelError.config("training.validation_fraction holds rows out of the rows trained on, which given counts already include: set it to 0 and pass validation data")
        }
    }

    /// What an exchanging run may ask (ParameterExchangeStep).
    private func checkExchange(_ e: ExchangeSchedule) throws {
        guard e.syncEvery >= 0 else {
            throw TextModelError.invalidArgument("sync_every must be 0 (exchange at epoch ends only) or a positive number of optimizer steps; got \(e.syncEvery)")
        }
        if e.counts != nil && config.training.validationFraction > 0 {
            throw TextModelError.config("training.validation_fraction holds rows out of the rows trained on, which given counts already include: set it to 0 and pass validation data")
        }
        if config.training.privacy != nil {
            throw TextModelError.config("training.privacy cannot be combined with a parameter exchange: the privacy accountant states ε for this process's rows alone, and weights averaged with other processes' would need a joint accounting that is not done; train privately in one process, or without training.privacy")
        }
    }

    struct Validation {
        var loss: Double
        var accuracy: Double?
        var macroF1: Double?
    }

    /// Mean loss, and for classifiers accuracy (subset accuracy for multi-label) and
    /// macro-F1, of the network's current weights on encoded examples. Runs in
    /// inference groups (BatchInference), larger than training batches, on as many of
    /// `workspaces` as fit training.max_memory_mb (same results). Its weights keep
    /// changing, so no inference table.
    func validate(network: Network, parameters: UnsafePointer<Float>, labels: [String], scaling: TargetScaling,
                  examples: EncodedTexts, targets: Targets, workspaces: [Workspace]) throws -> Validation {
        let outputs = try FloatBuffer.allocate(count: examples.count * network.classes,
                                               what: "the outputs of \(examples.count) validation texts")
        let inference = BatchInference(network: network, parameters: parameters, scaling: scaling)
        let workers = try inference.workers(for: examples, wanted: workspaces.count, maxMemoryMB: config.training.maxMemoryMB)
        try inference.outputs(of: examples, into: outputs.pointer, workspaces: Array(workspaces.prefix(workers)))
        let metrics = Evaluation(task: config.model.task, labels: labels, loss: network.loss, threshold: config.model.threshold, outputs: outputs.pointer, targets: targets)
        return Validation(loss: metrics.meanLoss, accuracy: metrics.accuracy, macroF1: metrics.macroF1)
    }

    /// Refuses configs whose weights, optimizer state and activations would exceed
    /// training.max_memory_mb, before allocating any of it. The activations are the
    /// network's ActivationPlan at the largest shard, once per data-parallel worker.
    private func checkMemory(network: Network, workers: Int, shard: BatchShape) throws {
        let parameterBytes = Double(network.layout.count) * 4
        let buffers = 3 + Double(workers)  // weights, two Adam moments, one gradient per worker
        let activations = Double(network.activationBytes(shard)) * Double(workers)
        let needed = parameterBytes * buffers + activations
        let cap = Double(config.training.maxMemoryMB) * 1_048_576
        if needed > cap {
            throw TextModelError.resource("training this model needs about \(Int(needed / 1_048_576)) MB, more than training.max_memory_mb = \(config.training.maxMemoryMB); reduce the vocabulary (tokenizer.max_size), model sizes, batch_size or threads, or raise the cap")
        }
    }
}

/// Monotonic wall-clock seconds.
enum Clock {
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}
