import XCTest
@testable import TextModel

/// training.hogwild: the fused per-example SGD step of the bag model, and lock-free
/// training on several threads.
///
/// Named so that the ThreadSanitizer run of scripts/test.sh (filter
/// "NetworkTests|TrainingTests") leaves it out: Hogwild threads read and write shared
/// weights without synchronisation on purpose, and TSan would rightly report those
/// races. Everything else about the trainer runs under TSan through TrainingTests.
final class HogwildRaceTests: XCTestCase {
    private func hogwildConfig(threads: Int, epochs: Int = 5) -> Config {
        var c = Config(modelType: .lstm)
        c.model.type = .bag
        c.model.embeddingDim = 16
        c.tokenizer.minFreq = 1
        c.tokenizer.wordNgrams = 2
        c.tokenizer.buckets = 500
        c.training.optimizer = .sgd
        c.training.learningRate = 0.5
        c.training.lrSchedule = .linear
        c.training.batchSize = 1
        c.training.epochs = epochs
        c.training.threads = threads
        c.training.hogwild = true
        c.training.seed = 3
        return c
    }

    func testFusedStepEqualsBackwardThenSGD() throws {
        var c = Config(modelType: .bag)
        c.model.embeddingDim = 5
        let network = Network.make(c, vocabulary: 12, classes: 3)
        let count = network.layout.count
        let start = FloatBuffer.zeros(count: count)
        var rng = SeededGenerator(seed: 9)
        for i in 0..<count { start.pointer[i] = rng.uniform(-0.5, 0.5) }
        let ids: [Int32] = [3, 7, 0, 11]   // distinct: the fused step is then exact
        var target: Int32 = 2
        let lr: Float = 0.3

        // Reference: forward, backward into a gradient buffer, then θ ← θ − lr·g.
        let reference = copyBuffer(start, count)
        let grads = FloatBuffer.zeros(count: count)
        let ws = network.makeWorkspace()
        ws.batch.pack([ids[...]])
        network.forward(reference.pointer, batch: ws.batch, workspace: ws)
        network.backward(reference.pointer, batch: ws.batch, targets: &target, scale: 1, workspace: ws, grads: grads.pointer)
        for i in 0..<count { reference.pointer[i] -= lr * grads.pointer[i] }

        let fused = copyBuffer(start, count)
        let scratch = FloatBuffer.zeros(count: HogwildStep.scratchCount(network))
        let step = try HogwildStep(network: network, examples: .flat(EncodedTexts([])), targets: [], classWeights: [1, 1, 1],
                                   smoothing: 0, learningRate: Double(lr), updateEmbeddings: true, progressEvery: 1, threads: 1)
        let result = ids.withUnsafeBufferPointer { ids in
            step.sgdStep(fused.pointer, ids: ids, loss: LossTargets(targets: &target), learningRate: lr, scratch: scratch.pointer)
        }
        XCTAssertEqual(result.loss, -Double(logf(network.outputs(ws)[2])), accuracy: 1e-6)
        // Right exactly when the unfused forward pass's argmax was the target.
        XCTAssertEqual(result.correct, argmax(network.outputs(ws), network.classes) == Int(target))
        var changed = 0
        for i in 0..<count {
            XCTAssertEqual(fused.pointer[i], reference.pointer[i], accuracy: 1e-6, "parameter \(i)")
            if fused.pointer[i] != start.pointer[i] { changed += 1 }
        }
        XCTAssertEqual(changed, 4 * 5 + 3 * 5 + 3, "the four rows used and the output layer move, nothing else")
    }

    /// With a learning rate of 0 the weights never move, so the epoch's count of right
    /// predictions must be exactly what forward passes on the starting weights predict.
    func testEpochCountsRightPredictionsOfItsForwardPasses() throws {
        var c = Config(modelType: .bag)
        c.model.embeddingDim = 4
        let network = Network.make(c, vocabulary: 10, classes: 3)
        let params = FloatBuffer.zeros(count: network.layout.count)
        var rng = SeededGenerator(seed: 5)
        for i in 0..<network.layout.count { params.pointer[i] = rng.uniform(-1, 1) }
        var texts = [[Int32]]()
        for i in 0..<40 {
            let length = 1 + i % 4
            texts.append((0..<length).map { k -> Int32 in Int32((i * 7 + k * 3) % 10) })
        }
        let targets: [Int32] = (0..<40).map { Int32(($0 * 5) % 3) }
        var expected = 0
        let ws = network.makeWorkspace()
        for (text, target) in zip(texts, targets) {
            ws.batch.pack([text[...]])
            network.forward(params.pointer, batch: ws.batch, workspace: ws)
            if argmax(network.outputs(ws), 3) == Int(target) { expected += 1 }
        }
        XCTAssertGreaterThan(expected, 0)
        XCTAssertLessThan(expected, 40, "a discriminating case: neither none nor all right")
        let order = Array((Int32(0)..<40).reversed())
        for threads in [1, 2] {
            var step = try HogwildStep(network: network, examples: .flat(EncodedTexts(texts)), targets: targets, classWeights: [1, 1, 1],
                                       smoothing: 0, learningRate: 0, updateEmbeddings: true, progressEvery: 1000, threads: threads)
            var state = TrainingState(parameters: params, optimizer: SGD(count: 0, learningRate: 0.1, momentum: 0),
                                      rng: SeededGenerator(seed: 1), totalSteps: 40,
                                      schedule: LearningRateSchedule(config: c.training, totalSteps: 40, stepsPerEpoch: 40))
            let epoch = try step.run(order[...], epoch: 1, state: &state) { _, _ in false }
            XCTAssertEqual(epoch.correct, expected, "\(threads) thread(s)")
        }
    }

    func testHogwildTrainingReportsTrainingAccuracy() throws {
        let report = try Model(config: hogwildConfig(threads: 2)).train(KeywordData.make(count: 300, seed: 8))
        let accuracies = report.epochs.compactMap(\.trainAccuracy)
        XCTAssertEqual(accuracies.count, 5)
        XCTAssertTrue(accuracies.allSatisfy { (0...1).contains($0) }, "\(accuracies)")
        XCTAssertGreaterThan(accuracies.last!, 0.9)
    }

    func testOneThreadIsDeterministicAndMatchesTheDataParallelTrainer() throws {
        let data = KeywordData.make(count: 300, seed: 1), test = KeywordData.make(count: 200, seed: 2)
        let a = Model(config: hogwildConfig(threads: 1)), b = Model(config: hogwildConfig(threads: 1))
        try a.train(data)
        try b.train(data)
        let pa = try a.predictProbabilities(test.texts)
        XCTAssertEqual(pa, try b.predictProbabilities(test.texts), "one Hogwild thread is deterministic")

        var plain = hogwildConfig(threads: 1)
        plain.training.hogwild = false
        let c = Model(config: plain)
        try c.train(data)
        let pc = try c.predictProbabilities(test.texts)
        // The same per-example SGD, up to float rounding (duplicate ids, summation order).
        let worst = zip(pa, pc).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThan(worst, 1e-3, "Hogwild on one thread is plain per-example SGD")
    }

    func testSeveralThreadsLearnAndReportTheirCount() throws {
        let data = KeywordData.make(count: 600, seed: 4), test = KeywordData.make(count: 300, seed: 5)
        let classifier = Model(config: hogwildConfig(threads: 3))
        var steps = [Int]()
        let report = try classifier.train(data) { p in
            if p.kind == .step { steps.append(p.step) }
            return false
        }
        XCTAssertEqual(report.threads, 3)
        XCTAssertFalse(report.cancelled)
        XCTAssertEqual(steps.last, 5 * 600, "the last step report is the run's last step")
        XCTAssertEqual(steps, steps.sorted(), "step reports move forward")
        XCTAssertGreaterThanOrEqual(try classifier.evaluate(test).accuracy ?? -1, 0.9)
        XCTAssertTrue(report.epochs.allSatisfy { $0.trainLoss.isFinite })
        XCTAssertLessThan(report.epochs.last!.trainLoss, report.epochs.first!.trainLoss)
    }

    func testCancellingStopsEveryThread() throws {
        var config = hogwildConfig(threads: 2, epochs: 5)
        config.training.progressEvery = 50
        let classifier = Model(config: config)
        var reports = 0
        let report = try classifier.train(KeywordData.make(count: 400, seed: 6)) { p in
            reports += 1
            return p.kind == .step && p.step >= 200
        }
        XCTAssertTrue(report.cancelled)
        XCTAssertEqual(report.epochs.count, 0, "cancelled inside the first epoch")
        XCTAssertEqual(reports, 4, "no report after the cancelling one")
        XCTAssertTrue(classifier.isTrained, "the weights learned so far are kept")
    }

    func testHogwildNeedsTheBagModelWithPlainSGDOnSingleExamples() {
        let cases: [(String, String)] = [
            (#"{"model": {"type": "lstm"}, "training": {"hogwild": true, "optimizer": "sgd", "batch_size": 1}}"#, "model.type \"bag\""),
            (#"{"model": {"type": "bag"}, "training": {"hogwild": true, "optimizer": "adam"}}"#, "training.optimizer \"sgd\""),
            (#"{"model": {"type": "bag"}, "training": {"hogwild": true, "optimizer": "sgd", "momentum": 0.9, "batch_size": 1}}"#, "momentum 0"),
            (#"{"model": {"type": "bag"}, "training": {"hogwild": true, "batch_size": 8}}"#, "training.batch_size 1"),
            (#"{"model": {"type": "bag", "task": "regression"}, "training": {"hogwild": true}}"#, "model.task \"single_label\""),
            (#"{"model": {"type": "bag"}, "training": {"hogwild": true, "optimizer": "sgd", "batch_size": 1, "clip_norm": 1}}"#, "clip_norm 0"),
            (#"{"model": {"type": "bag"}, "training": {"hogwild": true, "optimizer": "sgd", "batch_size": 1, "augment_swap": 0.1}}"#, "augmentation"),
        ]
        for (json, mention) in cases {
            assertThrowsTextModelError(.config, mentioning: ["training.hogwild", mention]) { try Config(json: json) }
        }
        XCTAssertNoThrow(try Config(json: #"{"model": {"type": "bag"}, "training": {"hogwild": true, "optimizer": "sgd", "batch_size": 1}}"#))
    }
}
