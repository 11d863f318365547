#if canImport(Glibc)
import Glibc
#endif

/// Trains a TextNetwork with mini-batches and data-parallel workers.
///
/// Each optimizer step: the batch (texts sorted longest first) is dealt round-robin to
/// `threads` workers; each runs forward and backward on its share into its own gradient
/// buffer; the buffers are summed in worker order (so a seed and a thread count fix the
/// result); the sum is clipped if asked; then the optimizer updates the one parameter
/// buffer at the schedule's learning rate.
///
/// With training.hogwild (bag model, plain SGD, batches of one) the steps run on
/// HogwildTrainer's lock-free threads instead.
struct Trainer {
    let config: Config
    let progress: ProgressHandler?

    struct Outcome {
        var model: TrainedModel
        var report: TrainingReport
    }

    func train(_ data: consuming LabelledTexts, validation: LabelledTexts?) throws -> Outcome {
        let started = Clock.now()
        var report = TrainingReport()
        report.skippedEmptyText = data.skippedEmptyText
        report.skippedMissingLabel = data.skippedMissingLabel
        // Handed over, so the raw texts are freed when TrainingSet has encoded them
        // (if the caller handed them over too) rather than held through every epoch.
        let set = try TrainingSet(config: config, data: consume data, validation: validation)
        // Those texts were a million small blocks: free()d, their pages stay with malloc
        // (and in the RSS) until trimmed, while the weights come next from fresh pages.
        Memory.returnFreePages()
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
        let weighted = classWeights.contains { $0 != 1 }

        let network = try makeNetwork(config: config, vocabularySize: set.vocabulary.count, classes: set.width)
        let batchSize = t.batchSize
        // Hogwild threads each take whole examples; data-parallel ones split a batch.
        let hogwild = t.hogwild ? (network as? BagNetwork).map { HogwildTrainer(network: $0, threads: Parallel.threads(t.threads)) } : nil
        let threads = hogwild?.threads ?? max(1, min(Parallel.threads(t.threads), batchSize))
        report.threads = threads
        try checkMemory(network: network, threads: hogwild == nil ? threads : 0, longest: set.examples.longest,
                        examples: set.examples.count)

        let count = network.layout.count
        let parameters = try FloatBuffer.allocate(count: count, what: "the model's weights")
        var rng = SeededGenerator(seed: t.seed)
        network.initialize(parameters.pointer, rng: &rng)
        let embedding = network.embeddingTensor
        if let path = config.model.pretrainedVectors {
            report.pretrainedFound = try PretrainedVectors.load(path: path, vocabulary: set.vocabulary, dim: embedding.shape[1],
                                                                into: parameters.pointer + embedding.offset,
                                                                maxMemoryMB: t.maxMemoryMB)
        }
        // Parts of the buffer the optimizer may change: all, or all but frozen embeddings.
        let trainable: [Range<Int>] = config.model.freezeEmbeddings
            ? [0..<embedding.offset, (embedding.offset + embedding.count)..<count] : [0..<count]
        let augmenter = Augmenter(tokenDropout: Float(t.augmentTokenDropout), swap: Float(t.augmentSwap))
        var optimizer = try makeOptimizer(t, count: count)
        let sparseUpdates = (optimizer as? SGD)?.skipsZeroGradients ?? false
        var stopper = t.earlyStopping == .none ? nil
            : EarlyStopping(metric: t.earlyStopping, patience: t.patience,
                            best: try FloatBuffer.allocate(count: count, what: "the best weights kept for early stopping"))

        let workspaces = (0..<threads).map { _ in Workspace() }
        var reducer = GradientReducer(network: network)
        // Hogwild writes its updates straight into the weights: no gradient buffers.
        let grads = try (0..<(hogwild == nil ? threads : 0)).map { _ in try FloatBuffer.allocate(count: count, what: "a gradient buffer") }
        var shards = [[Int]](repeating: [], count: threads)
        var batch = [Int]()   // this step's examples, longest first; reused, not reallocated
        batch.reserveCapacity(batchSize)
        var shardTargets = [[Int32]](repeating: [], count: threads)
        var shardValues = [[Float]](repeating: [], count: threads)
        var shardWeights = [[Float]](repeating: [], count: threads)
        // Written by the workers in parallel, one slot each: a raw buffer, not a Swift
        // array, whose exclusivity checks would (rightly) refuse concurrent writes.
        let losses = UnsafeMutableBufferPointer<Double>.allocate(capacity: threads)
        losses.initialize(repeating: 0)
        defer { losses.deallocate() }
        // Each worker's count of rows predicted right, for the epoch's training accuracy.
        let corrects = UnsafeMutableBufferPointer<Int>.allocate(capacity: threads)
        corrects.initialize(repeating: 0)
        defer { corrects.deallocate() }
        // Training accuracy as PyTorch loops usually count it: on the training-mode
        // forward passes the loss came from (dropout, augmentation, weights changing
        // through the epoch), not a second pass with the epoch's final weights.
        let hasAccuracy = set.targets.task != .regression

        // Regression trains on standardised targets; its losses are reported in the
        // data's own units (squared), comparable with the validation loss.
        let lossUnit = set.scaling.std * set.scaling.std
        let epochs = t.epochs
        let stepsPerEpoch = (set.examples.count + batchSize - 1) / batchSize
        let totalSteps = stepsPerEpoch * epochs
        let schedule = LearningRateSchedule(config: t, totalSteps: totalSteps, stepsPerEpoch: stepsPerEpoch)
        var step = 0, examplesSeen = 0
        var order = Array(0..<set.examples.count)
        var cancelled = false
        var firstEpoch = 1
        var secondsBefore = 0.0   // training time of the run a checkpoint continues
        // What a checkpoint of this run is checked against; the data's CRC reads every
        // encoded token, so only runs that checkpoint pay for it.
        let identity = t.checkpointPath == nil ? nil
            : TrainingCheckpoint.Identity(config: config.checkpointIdentity.serialized, data: set.fingerprint())
        if t.resume, let path = t.checkpointPath, let identity = identity, FileIO.exists(path) {
            let checkpoint = try TrainingCheckpoint.load(from: path, identity: identity, parameters: parameters, count: count,
                                                         order: &order, optimizer: &optimizer, best: stopper?.bestWeights,
                                                         maxMemoryMB: t.maxMemoryMB)
            if let state = checkpoint.earlyStopping { stopper?.state = state }
            step = checkpoint.step
            examplesSeen = checkpoint.examplesSeen
            rng = checkpoint.rng
            report.epochs = checkpoint.epochs
            report.resumedFromEpoch = checkpoint.epoch
            secondsBefore = checkpoint.seconds
            firstEpoch = checkpoint.epoch + 1
            // A run that had stopped early stays stopped.
            if let s = checkpoint.earlyStopping, s.bestEpoch > 0, s.epochsWithoutImprovement >= t.patience {
                firstEpoch = epochs + 1
                report.stoppedEarly = checkpoint.epoch < epochs
            }
        }
        // What each example looks like this epoch: itself, or an augmented copy.
        var sequences = EpochExamples(set.examples)

        let examplesBefore = examplesSeen   // progress rates count this run's examples only
        epochLoop: for epoch in stride(from: firstEpoch, through: epochs, by: 1) {
            let epochStart = Clock.now()
            rng.shuffle(&order)
            var epochLoss = 0.0, epochWeight = 0.0
            var epochCorrect = 0, epochExamples = 0
            if let hogwild = hogwild {
                let outcome = runHogwildEpoch(hogwild, set: set, order: order, classWeights: classWeights, weighted: weighted,
                                              parameters: parameters.pointer, firstStep: step, totalSteps: totalSteps,
                                              schedule: schedule, epoch: epoch, started: started)
                step += order.count
                examplesSeen += order.count
                epochLoss = outcome.loss
                epochWeight = outcome.weight
                epochCorrect = outcome.correct
                epochExamples = order.count
                if outcome.cancelled { cancelled = true; break epochLoop }
            }
            // The data-parallel steps; none when the Hogwild threads did this epoch.
            let dataParallelRows = hogwild == nil ? order.count : 0
            for start in stride(from: 0, to: dataParallelRows, by: batchSize) {
                let rows = order[start..<min(start + batchSize, order.count)]
                if augmenter.isActive {
                    for e in rows { sequences[e] = augmenter.apply(set.examples[e], rng: &rng) }
                }
                batch.removeAll(keepingCapacity: true)
                batch.append(contentsOf: rows)
                batch.sort { a, b in
                    sequences[a].count != sequences[b].count ? sequences[a].count > sequences[b].count : a < b
                }
                for w in 0..<threads {
                    shards[w].removeAll(keepingCapacity: true)
                    shardTargets[w].removeAll(keepingCapacity: true)
                    shardValues[w].removeAll(keepingCapacity: true)
                    shardWeights[w].removeAll(keepingCapacity: true)
                }
                var batchWeight: Float = 0
                for (i, e) in batch.enumerated() {
                    let w = i % threads
                    shards[w].append(e)
                    set.targets.append(row: e, classes: &shardTargets[w], values: &shardValues[w])
                    let weight = weighted ? classWeights[Int(set.targets.classes[e])] : 1
                    shardWeights[w].append(weight)
                    batchWeight += weight
                }
                let scale = 1 / batchWeight
                let stepSeed = t.seed &+ UInt64(step) &* 0x9E37_79B9_7F4A_7C15
                Parallel.run(threads) { w in
                    losses[w] = 0
                    corrects[w] = 0
                    guard !shards[w].isEmpty else { return }
                    let ws = workspaces[w]
                    ws.training = true
                    ws.rng = SeededGenerator(seed: stepSeed ^ UInt64(w))
                    defer { ws.training = false }
                    ws.batch.pack(shards[w].lazy.map { sequences[$0] })
                    network.forward(parameters.pointer, batch: ws.batch, workspace: ws)
                    shardTargets[w].withUnsafeBufferPointer { targets in
                        shardValues[w].withUnsafeBufferPointer { values in
                            shardWeights[w].withUnsafeBufferPointer { rowWeights in
                                let loss = LossTargets(targets: targets.baseAddress, values: values.baseAddress,
                                                       weights: weighted ? rowWeights.baseAddress : nil,
                                                       smoothing: Float(t.labelSmoothing), scale: scale)
                                losses[w] = network.head.loss(outputs: ws.probs.pointer, rows: shards[w].count,
                                                              width: set.width, targets: loss)
                                if hasAccuracy {
                                    corrects[w] = network.head.correct(outputs: ws.probs.pointer, rows: shards[w].count, width: set.width,
                                                                       targets: loss, threshold: config.model.threshold)
                                }
                                network.backward(parameters.pointer, batch: ws.batch, loss: loss, workspace: ws, grads: grads[w].pointer)
                            }
                        }
                    }
                }
                reducer.sum(grads, workspaces: workspaces, workers: threads)
                if config.model.freezeEmbeddings {
                    reducer.forEachTouchedRange(workspaces: workspaces, workers: threads) { range in
                        if range.lowerBound >= embedding.offset && range.upperBound <= embedding.offset + embedding.count {
                            grads[0].pointer.advanced(by: range.lowerBound).update(repeating: 0, count: range.count)
                        }
                    }
                }
                if t.clipNorm > 0 {
                    GradientClipping.clip(grads[0].pointer, maxNorm: t.clipNorm) { visit in
                        if sparseUpdates { reducer.forEachTouchedRange(workspaces: workspaces, workers: threads, visit) }
                        else { trainable.forEach(visit) }
                    }
                }
                optimizer.beginStep(learningRateScale: schedule.multiplier(atStep: step + 1))
                if sparseUpdates {
                    // Untouched embedding rows have zero gradient: plain SGD would not move them.
                    reducer.forEachTouchedRange(workspaces: workspaces, workers: threads) { range in
                        optimizer.update(params: parameters.pointer, grads: grads[0].pointer, range: range)
                    }
                } else {
                    Parallel.run(threads) { w in
                        for range in trainable {
                            let n = range.count
                            optimizer.update(params: parameters.pointer, grads: grads[0].pointer,
                                             range: (range.lowerBound + w * n / threads)..<(range.lowerBound + (w + 1) * n / threads))
                        }
                    }
                }

                step += 1
                epochLoss += losses.reduce(0, +)
                epochWeight += Double(batchWeight)
                epochCorrect += corrects.reduce(0, +)
                epochExamples += batch.count
                examplesSeen += batch.count
                if let progress = progress, step % t.progressEvery == 0 || step == totalSteps {
                    let elapsed = Clock.now() - started
                    let rate = Double(examplesSeen - examplesBefore) / max(elapsed, 1e-9)
                    let remaining = Double(totalSteps - step) * Double(batchSize)
                    let p = TrainingProgress(kind: .step, epoch: epoch, epochs: epochs, step: step, totalSteps: totalSteps,
                                             runningLoss: lossUnit * epochLoss / epochWeight, examplesPerSecond: rate,
                                             etaSeconds: remaining / max(rate, 1e-9), elapsedSeconds: elapsed)
                    if progress(p) { cancelled = true; break epochLoop }
                }
            }

            var epochReport = TrainingReport.Epoch(epoch: epoch, trainLoss: lossUnit * epochLoss / max(epochWeight, 1e-30),
                                                   validLoss: nil, validAccuracy: nil, seconds: 0)
            if hasAccuracy && epochExamples > 0 { epochReport.trainAccuracy = Double(epochCorrect) / Double(epochExamples) }
            var stop = false
            if !set.validExamples.isEmpty {
                // Its weights keep training after this validation: no inference table.
                let model = try TrainedModel(config: config, vocabulary: set.vocabulary, labels: set.labels, scaling: set.scaling,
                                         parameters: parameters, inputTable: .never)
                let v = try Trainer.validate(model: model, examples: set.validExamples, targets: set.validTargets, workspaces: workspaces)
                epochReport.validLoss = v.loss
                epochReport.validAccuracy = v.accuracy
                epochReport.validMacroF1 = v.macroF1
                if var watcher = stopper {
                    // Config checks that a regression model stops on valid_loss only.
                    let value = t.earlyStopping == .validLoss ? v.loss
                        : t.earlyStopping == .validAccuracy ? v.accuracy ?? 0 : v.macroF1 ?? 0
                    stop = watcher.record(epoch: epoch, value: value, parameters: parameters.pointer)
                    stopper = watcher
                }
            }
            epochReport.seconds = Clock.now() - epochStart
            report.epochs.append(epochReport)
            if let path = t.checkpointPath, let identity = identity {
                let checkpoint = TrainingCheckpoint(epoch: epoch, step: step, examplesSeen: examplesSeen,
                                                    seconds: secondsBefore + Clock.now() - started, rng: rng,
                                                    earlyStopping: stopper?.state, epochs: report.epochs)
                try checkpoint.save(to: path, identity: identity, parameters: parameters, count: count, order: order,
                                    optimizer: optimizer, best: stopper?.bestWeights)
            }
            if let progress = progress {
                let elapsed = Clock.now() - started
                let rate = Double(examplesSeen - examplesBefore) / max(elapsed, 1e-9)
                var p = TrainingProgress(kind: .epoch, epoch: epoch, epochs: epochs, step: step, totalSteps: totalSteps,
                                         runningLoss: epochReport.trainLoss, examplesPerSecond: rate,
                                         etaSeconds: Double(totalSteps - step) * Double(batchSize) / max(rate, 1e-9),
                                         elapsedSeconds: elapsed)
                p.trainLoss = epochReport.trainLoss
                p.trainAccuracy = epochReport.trainAccuracy ?? .nan
                p.validLoss = epochReport.validLoss ?? .nan
                p.validAccuracy = epochReport.validAccuracy ?? .nan
                if progress(p) && epoch < epochs { cancelled = true; break epochLoop }
            }
            if stop {
                report.stoppedEarly = epoch < epochs
                break epochLoop
            }
        }
        if let stopper = stopper {
            stopper.restore(into: parameters.pointer)
            report.bestEpoch = stopper.bestEpoch
        }
        report.cancelled = cancelled
        report.seconds = Clock.now() - started
        let model = try TrainedModel(config: config, vocabulary: set.vocabulary, labels: set.labels, scaling: set.scaling, parameters: parameters)
        return Outcome(model: model, report: report)
    }

    /// One epoch of HogwildTrainer steps, with the progress reports the data-parallel
    /// loop would make (from thread 0's view) and its final-step report.
    private func runHogwildEpoch(_ hogwild: HogwildTrainer, set: TrainingSet, order: [Int], classWeights: [Float], weighted: Bool,
                                 parameters: UnsafeMutablePointer<Float>, firstStep: Int, totalSteps: Int,
                                 schedule: LearningRateSchedule, epoch: Int, started: Double) -> HogwildTrainer.Epoch {
        let t = config.training
        let rate = t.learningRate
        func report(_ step: Int, _ runningLoss: Double) -> Bool {
            guard let progress = progress else { return false }
            let elapsed = Clock.now() - started
            let perSecond = Double(step) / max(elapsed, 1e-9)
            return progress(TrainingProgress(kind: .step, epoch: epoch, epochs: t.epochs, step: step, totalSteps: totalSteps,
                                             runningLoss: runningLoss, examplesPerSecond: perSecond,
                                             etaSeconds: Double(totalSteps - step) / max(perSecond, 1e-9), elapsedSeconds: elapsed))
        }
        var outcome = set.examples.withUnsafeStorage { ids, offsets in
            set.targets.classes.withUnsafeBufferPointer { targets in
                classWeights.withUnsafeBufferPointer { weights in
                    order.withUnsafeBufferPointer { order in
                        hogwild.runEpoch(order: order,
                                         examples: .init(ids: ids, offsets: offsets, targets: targets, classWeights: weights,
                                                         weighted: weighted, smoothing: Float(t.labelSmoothing)),
                                         parameters: parameters, updateEmbeddings: !config.model.freezeEmbeddings,
                                         firstStep: firstStep, progressEvery: t.progressEvery,
                                         learningRate: { Float(rate * schedule.multiplier(atStep: $0)) }, progress: report)
                    }
                }
            }
        }
        let last = firstStep + order.count
        if !outcome.cancelled && last == totalSteps && (hogwild.threads > 1 || last % t.progressEvery != 0) {
            outcome.cancelled = report(last, outcome.loss / max(outcome.weight, 1e-30))
        }
        return outcome
    }

    struct Validation {
        var loss: Double
        var accuracy: Double?
        var macroF1: Double?
    }

    /// Mean loss, and for classifiers accuracy (subset accuracy for multi-label) and
    /// macro-F1, of a model on encoded examples.
    /// Validation runs in inference groups of 256 texts, larger than training batches, so
    /// it takes only the workspaces that fit training.max_memory_mb (same results).
    static func validate(model: TrainedModel, examples: EncodedTexts, targets: Targets, workspaces: [Workspace]) throws -> Validation {
        let outputs = try FloatBuffer.allocate(count: examples.count * model.width, what: "the outputs of \(examples.count) validation texts")
        let workers = try model.inferenceWorkers(for: examples, wanted: workspaces.count)
        model.outputs(of: examples, into: outputs.pointer, workspaces: Array(workspaces.prefix(workers)))
        let metrics = Evaluation(model: model, outputs: outputs.pointer, targets: targets)
        return Validation(loss: metrics.meanLoss, accuracy: metrics.accuracy, macroF1: metrics.macroF1)
    }

    /// Refuses configs whose weights, optimizer state and activations would exceed
    /// training.max_memory_mb, before allocating any of it.
    private func checkMemory(network: TextNetwork, threads: Int, longest: Int, examples: Int) throws {
        let parameterBytes = Double(network.layout.count) * 4
        let buffers = 3 + Double(threads)  // weights, two Adam moments, one gradient per worker
        let batch = min(config.training.batchSize, max(examples, 1))
        let rows = batch * min(longest, config.tokenizer.maxLength)
        let activations = Double(network.workspaceBytes(rows: rows, size: batch)) * Double(threads)
        let needed = parameterBytes * buffers + activations
        let cap = Double(config.training.maxMemoryMB) * 1_048_576
        if needed > cap {
            throw TextModelError.resource("training this model needs about \(Int(needed / 1_048_576)) MB, more than training.max_memory_mb = \(config.training.maxMemoryMB); reduce the vocabulary (tokenizer.max_size), model sizes, batch_size or threads, or raise the cap")
        }
        // Within the cap, but the system may still lack it: optimizer state, workspaces
        // and scratch buffers stop the process on allocation failure (FloatBuffer.init,
        // reserve), so ask once for all of it here, where failing is an error.
        try TrainedModel.probeMemory(Int(needed), what: "training this model")
    }
}

/// Index of the largest of `count` floats (the first one on ties).
func argmax(_ p: UnsafePointer<Float>, _ count: Int) -> Int {
    var best = 0
    for j in 1..<max(count, 1) where p[j] > p[best] { best = j }
    return best
}

/// Monotonic wall-clock seconds.
enum Clock {
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}

