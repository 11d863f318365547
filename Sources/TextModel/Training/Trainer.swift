#if canImport(Glibc)
import Glibc
#endif

/// Trains an LSTMNetwork with mini-batches and data-parallel workers.
///
/// Each optimizer step: the batch (texts sorted longest first) is dealt round-robin to
/// `threads` workers; each runs forward and backward on its share into its own gradient
/// buffer; the buffers are summed in worker order (so a seed and a thread count fix the
/// result); then the optimizer updates the one parameter buffer.
struct Trainer {
    let config: Config
    let progress: ProgressHandler?

    struct Outcome {
        var model: TrainedModel
        var report: TrainingReport
    }

    func train(_ data: LabelledTexts, validation: LabelledTexts?) throws -> Outcome {
        let started = Clock.now()
        var report = TrainingReport()
        report.skippedEmptyText = data.skippedEmptyText
        report.skippedMissingLabel = data.skippedMissingLabel
        guard data.count > 0 else {
            throw TextModelError.data("no usable training rows (\(data.skippedEmptyText) with an empty text and \(data.skippedMissingLabel) with a missing label were skipped)")
        }
        let labels = Set(data.labels).sorted { Array($0.utf8).lexicographicallyPrecedes($1.utf8) }
        guard labels.count >= 2 else {
            throw TextModelError.data("the training data has only one class (\"\(labels[0])\"); a classifier needs at least two")
        }

        // Vocabulary and encoded examples.
        let tokenizer = Tokenizer(config.tokenizer)
        let tokenized = data.texts.map(tokenizer.tokenize)
        let vocabulary = Vocabulary.build(from: tokenized, minFreq: config.tokenizer.minFreq, maxSize: config.tokenizer.maxSize)
        var labelIDs = [String: Int32]()
        for (i, l) in labels.enumerated() { labelIDs[l] = Int32(i) }
        let encoder = FeatureEncoder(config: config.tokenizer, vocabulary: vocabulary)
        let examples = tokenized.map(encoder.encode(tokens:))
        let targets = data.labels.map { labelIDs[$0] ?? 0 }
        report.trainExamples = data.count
        report.trainTokens = examples.reduce(0) { $0 + $1.count }
        report.vocabularySize = vocabulary.count
        report.labels = labels

        var validExamples = [[Int32]](), validTargets = [Int32]()
        if let v = validation {
            report.validExamples = v.count
            report.validSkipped = v.skipped
            for (text, label) in zip(v.texts, v.labels) {
                guard let id = labelIDs[label] else {
                    throw TextModelError.data("the validation data has the label \"\(label)\", which the training data does not have")
                }
                validExamples.append(encoder.encode(text))
                validTargets.append(id)
            }
        }

        let network = makeNetwork(config: config, vocabularySize: vocabulary.count, classes: labels.count)
        let batchSize = config.training.batchSize
        let threads = max(1, min(config.training.threads == 0 ? Parallel.coreCount : config.training.threads, batchSize))
        report.threads = threads
        try checkMemory(network: network, threads: threads, longest: examples.map(\.count).max() ?? 0)

        let count = network.layout.count
        let parameters = FloatBuffer(count: count)
        var rng = SeededGenerator(seed: config.training.seed)
        network.initialize(parameters.pointer, rng: &rng)
        var optimizer: Optimizer = config.training.optimizer == "sgd"
            ? SGD(count: count, learningRate: config.training.learningRate, momentum: config.training.momentum)
            : Adam(count: count, learningRate: config.training.learningRate, beta1: config.training.beta1,
                   beta2: config.training.beta2, epsilon: config.training.epsilon)
        let sparseUpdates = (optimizer as? SGD)?.skipsZeroGradients ?? false

        let workspaces = (0..<threads).map { _ in Workspace() }
        var reducer = GradientReducer(network: network)
        let grads = (0..<threads).map { _ in FloatBuffer(count: count) }
        var shards = [[Int]](repeating: [], count: threads)
        var shardTargets = [[Int32]](repeating: [], count: threads)
        // Written by the workers in parallel, one slot each: a raw buffer, not a Swift
        // array, whose exclusivity checks would (rightly) refuse concurrent writes.
        let losses = UnsafeMutableBufferPointer<Double>.allocate(capacity: threads)
        losses.initialize(repeating: 0)
        defer { losses.deallocate() }

        let epochs = config.training.epochs
        let stepsPerEpoch = (data.count + batchSize - 1) / batchSize
        let totalSteps = stepsPerEpoch * epochs
        let schedule = LearningRateSchedule(config: config.training, totalSteps: totalSteps, stepsPerEpoch: stepsPerEpoch)
        var step = 0, examplesSeen = 0
        var order = Array(0..<data.count)
        var cancelled = false

        epochLoop: for epoch in 1...epochs {
            let epochStart = Clock.now()
            rng.shuffle(&order)
            var epochLoss = 0.0, epochExamples = 0
            for start in stride(from: 0, to: order.count, by: batchSize) {
                let batch = order[start..<min(start + batchSize, order.count)].sorted { a, b in
                    examples[a].count != examples[b].count ? examples[a].count > examples[b].count : a < b
                }
                for w in 0..<threads { shards[w].removeAll(keepingCapacity: true); shardTargets[w].removeAll(keepingCapacity: true) }
                for (i, e) in batch.enumerated() {
                    shards[i % threads].append(e)
                    shardTargets[i % threads].append(targets[e])
                }
                let scale = 1 / Float(batch.count)
                Parallel.run(threads) { w in
                    losses[w] = 0
                    guard !shards[w].isEmpty else { return }
                    let ws = workspaces[w]
                    ws.batch.pack(shards[w].map { examples[$0][...] })
                    network.forward(parameters.pointer, batch: ws.batch, workspace: ws)
                    shardTargets[w].withUnsafeBufferPointer { t in
                        losses[w] = SoftmaxCrossEntropy.loss(probs: ws.probs.pointer, targets: t.baseAddress!, rows: t.count, classes: labels.count)
                        network.backward(parameters.pointer, batch: ws.batch, targets: t.baseAddress!, scale: scale,
                                         workspace: ws, grads: grads[w].pointer)
                    }
                }
                reducer.sum(grads, workspaces: workspaces, workers: threads)
                optimizer.beginStep(learningRateScale: schedule.multiplier(atStep: step + 1))
                if sparseUpdates {
                    // Untouched embedding rows have zero gradient: plain SGD would not move them.
                    reducer.forEachTouchedRange(workspaces: workspaces, workers: threads) { range in
                        optimizer.update(params: parameters.pointer, grads: grads[0].pointer, range: range)
                    }
                } else {
                    Parallel.run(threads) { w in
                        optimizer.update(params: parameters.pointer, grads: grads[0].pointer,
                                         range: (w * count / threads)..<((w + 1) * count / threads))
                    }
                }

                step += 1
                epochLoss += losses.reduce(0, +)
                epochExamples += batch.count
                examplesSeen += batch.count
                if let progress = progress, step % config.training.progressEvery == 0 || step == totalSteps {
                    let elapsed = Clock.now() - started
                    let rate = Double(examplesSeen) / max(elapsed, 1e-9)
                    let remaining = Double(totalSteps - step) * Double(batchSize)
                    let p = TrainingProgress(kind: .step, epoch: epoch, epochs: epochs, step: step, totalSteps: totalSteps,
                                             runningLoss: epochLoss / Double(epochExamples), examplesPerSecond: rate,
                                             etaSeconds: remaining / max(rate, 1e-9), elapsedSeconds: elapsed)
                    if progress(p) { cancelled = true; break epochLoop }
                }
            }

            let model = TrainedModel(config: config, vocabulary: vocabulary, labels: labels, parameters: parameters)
            var epochReport = TrainingReport.Epoch(epoch: epoch, trainLoss: epochLoss / Double(max(epochExamples, 1)),
                                                   validLoss: nil, validAccuracy: nil, seconds: Clock.now() - epochStart)
            if !validExamples.isEmpty {
                let (loss, accuracy) = Trainer.lossAndAccuracy(model: model, examples: validExamples, targets: validTargets, workspaces: workspaces)
                epochReport.validLoss = loss
                epochReport.validAccuracy = accuracy
            }
            epochReport.seconds = Clock.now() - epochStart
            report.epochs.append(epochReport)
            if let progress = progress {
                let elapsed = Clock.now() - started
                let rate = Double(examplesSeen) / max(elapsed, 1e-9)
                var p = TrainingProgress(kind: .epoch, epoch: epoch, epochs: epochs, step: step, totalSteps: totalSteps,
                                         runningLoss: epochReport.trainLoss, examplesPerSecond: rate,
                                         etaSeconds: Double(totalSteps - step) * Double(batchSize) / max(rate, 1e-9),
                                         elapsedSeconds: elapsed)
                p.trainLoss = epochReport.trainLoss
                p.validLoss = epochReport.validLoss ?? .nan
                p.validAccuracy = epochReport.validAccuracy ?? .nan
                if progress(p) && epoch < epochs { cancelled = true; break epochLoop }
            }
        }
        report.cancelled = cancelled
        report.seconds = Clock.now() - started
        let model = TrainedModel(config: config, vocabulary: vocabulary, labels: labels, parameters: parameters)
        return Outcome(model: model, report: report)
    }

    /// Mean cross-entropy and accuracy of a model on encoded examples.
    static func lossAndAccuracy(model: TrainedModel, examples: [[Int32]], targets: [Int32], workspaces: [Workspace]) -> (Double, Double) {
        let c = model.labels.count
        let probs = FloatBuffer(count: examples.count * c)
        model.probabilities(of: examples, into: probs.pointer, workspaces: workspaces)
        var loss = 0.0, correct = 0
        for (i, t) in targets.enumerated() {
            let row = probs.pointer + i * c
            loss -= Double(logf(max(row[Int(t)], 1e-30)))
            if argmax(row, c) == Int(t) { correct += 1 }
        }
        let n = Double(max(examples.count, 1))
        return (loss / n, Double(correct) / n)
    }

    /// Refuses configs whose weights, optimizer state and activations would exceed
    /// training.max_memory_mb, before allocating any of it.
    private func checkMemory(network: TextNetwork, threads: Int, longest: Int) throws {
        let parameterBytes = Double(network.layout.count) * 4
        let buffers = 3 + Double(threads)  // weights, two Adam moments, one gradient per worker
        let rows = config.training.batchSize * min(longest, config.tokenizer.maxLength)
        let activations = Double(network.workspaceBytes(rows: rows, size: config.training.batchSize)) * Double(threads)
        let needed = parameterBytes * buffers + activations
        let cap = Double(config.training.maxMemoryMB) * 1_048_576
        if needed > cap {
            throw TextModelError.resource("training this model needs about \(Int(needed / 1_048_576)) MB, more than training.max_memory_mb = \(config.training.maxMemoryMB); reduce the vocabulary (tokenizer.max_size), model sizes, batch_size or threads, or raise the cap")
        }
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
