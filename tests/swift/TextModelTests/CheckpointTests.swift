// Checkpoint and resume: a run stopped after any epoch and resumed from its checkpoint
// ends with exactly the weights of a run that never stopped; checkpoints of another
// run, damaged ones and missing ones are handled as documented.
#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import TextModel

final class CheckpointTests: XCTestCase {
    private let texts = ["pizza with extra cheese", "a late goal won the match", "my laptop will not boot",
                         "the soup was cold", "what a save by the keeper", "the compiler crashed again"]

    /// Configs that between them use every piece of state a checkpoint keeps: Adam's
    /// moments and step count, SGD momentum, dropout and augmentation (random state),
    /// shuffling (example order), a schedule (step count), early stopping (best weights).
    private func configs(_ path: String) -> [(String, Config)] {
        var lstm = tinyConfig(epochs: 4, threads: 2)
        lstm.model.dropout = 0.2
        lstm.training.augmentTokenDropout = 0.1
        lstm.training.augmentSwap = 0.1
        var bag = tinyConfig(epochs: 4)
        bag.model.type = .bag
        bag.tokenizer.wordNgrams = 2
        bag.tokenizer.buckets = 64
        bag.training.optimizer = .sgd
        bag.training.momentum = 0.9
        bag.training.learningRate = 0.05
        bag.training.lrSchedule = .linear
        bag.training.batchSize = 4
        var cnn = tinyConfig(epochs: 4)
        cnn.model.type = .cnn
        cnn.model.filters = 4
        cnn.model.kernelSizes = [2, 3]
        cnn.training.optimizer = .adamw
        cnn.training.weightDecay = 0.01
        cnn.training.earlyStopping = .validLoss
        cnn.training.patience = 10
        cnn.training.validationFraction = 0.2
        var regression = tinyConfig(epochs: 4)
        regression.model.task = .regression
        var all = [("lstm", lstm), ("bag", bag), ("cnn", cnn), ("regression", regression)]
        for i in all.indices { all[i].1.training.checkpointPath = path }
        return all
    }

    private func data(for name: String) -> LabelledTexts {
        name == "regression" ? TaskTests.regressionData(count: 120, seed: 4) : KeywordData.make(count: 120, seed: 4)
    }

    private func outputs(_ c: Model) throws -> [Float] {
        c.task == .regression ? try c.predictValues(texts) : try c.predictProbabilities(texts)
    }

    func testResumedRunEndsWithTheUninterruptedRunsWeights() throws {
        let dir = ScratchDirectory()
        defer { removeTree(dir.path) }
        for (name, config) in configs(dir.file("run.ckpt")) {
            for stopAfter in [1, 3] {
                unlink(dir.file("run.ckpt"))
                let whole = Model(config: config)
                let wholeReport = try whole.train(data(for: name))

                unlink(dir.file("run.ckpt"))
                let first = Model(config: config)
                let firstReport = try first.train(data(for: name)) { p in p.kind == .epoch && p.epoch == stopAfter }
                XCTAssertTrue(firstReport.cancelled, name)
                XCTAssertEqual(firstReport.epochs.count, stopAfter, name)

                var resumeConfig = config
                resumeConfig.training.resume = true
                resumeConfig.training.progressEvery = 3     // may differ when resuming
                let resumed = Model(config: resumeConfig)
                let report = try resumed.train(data(for: name))
                XCTAssertEqual(report.resumedFromEpoch, stopAfter, name)
                XCTAssertEqual(report.epochs.count, 4, name)
                XCTAssertEqual(report.epochs.map(\.trainLoss), wholeReport.epochs.map(\.trainLoss), "\(name): per-epoch losses")
                XCTAssertEqual(report.epochs.map(\.validLoss), wholeReport.epochs.map(\.validLoss), "\(name): validation losses")
                // Training accuracy travels in the checkpoint's report too (none for regression).
                XCTAssertEqual(report.epochs.map(\.trainAccuracy), wholeReport.epochs.map(\.trainAccuracy), "\(name): training accuracies")
                XCTAssertEqual(report.epochs.allSatisfy { $0.trainAccuracy == nil }, name == "regression", name)
                XCTAssertEqual(try outputs(resumed), try outputs(whole), "\(name) stopped after \(stopAfter): the same final weights")
                XCTAssertEqual(report.bestEpoch, wholeReport.bestEpoch, name)
            }
        }
    }

    func testResumingAFinishedRunWithMoreEpochsContinuesIt() throws {
        let dir = ScratchDirectory()
        defer { removeTree(dir.path) }
        var config = tinyConfig(epochs: 2)
        config.training.checkpointPath = dir.file("c")
        let first = Model(config: config)
        try first.train(KeywordData.make(count: 60, seed: 1))
        config.training.resume = true
        config.training.epochs = 3
        let more = Model(config: config)
        let report = try more.train(KeywordData.make(count: 60, seed: 1))
        XCTAssertEqual(report.resumedFromEpoch, 2)
        XCTAssertEqual(report.epochs.map(\.epoch), [1, 2, 3])
        XCTAssertNotEqual(try more.predictProbabilities(texts), try first.predictProbabilities(texts))
        // With nothing left to do, resuming gives the checkpoint's weights back.
        let again = Model(config: config)
        let none = try again.train(KeywordData.make(count: 60, seed: 1))
        XCTAssertEqual(none.resumedFromEpoch, 3)
        XCTAssertEqual(try again.predictProbabilities(texts), try more.predictProbabilities(texts))
    }

    func testResumeWithoutACheckpointStartsFresh() throws {
        let dir = ScratchDirectory()
        defer { removeTree(dir.path) }
        var config = tinyConfig(epochs: 1)
        config.training.checkpointPath = dir.file("none-yet")
        config.training.resume = true
        let report = try Model(config: config).train(KeywordData.make(count: 40, seed: 1))
        XCTAssertNil(report.resumedFromEpoch)
        XCTAssertTrue(FileIO.exists(dir.file("none-yet")), "the run wrote its checkpoint")
        assertThrowsTextModelError(.config, mentioning: ["training.resume", "checkpoint_path"]) {
            _ = try Config(json: "{\"training\":{\"resume\":true}}")
        }
    }

    func testACheckpointOfAnotherRunIsRefused() throws {
        let dir = ScratchDirectory()
        defer { removeTree(dir.path) }
        var config = tinyConfig(epochs: 1)
        config.training.checkpointPath = dir.file("c")
        try Model(config: config).train(KeywordData.make(count: 40, seed: 1))
        var resume = config
        resume.training.resume = true
        resume.training.learningRate = 0.5
        assertThrowsTextModelError(.config, mentioning: ["training.learning_rate", "0.5"]) {
            try Model(config: resume).train(KeywordData.make(count: 40, seed: 1))
        }
        resume.training.learningRate = config.training.learningRate
        assertThrowsTextModelError(.data, mentioning: ["other training data"]) {
            try Model(config: resume).train(KeywordData.make(count: 40, seed: 2))
        }
        // Threads may change (the run continues; bit-for-bit equality needs the same count).
        resume.training.threads = 2
        XCTAssertEqual(try Model(config: resume).train(KeywordData.make(count: 40, seed: 1)).resumedFromEpoch, 1)
    }

    /// A checkpoint written by 0.3.0, whose config has no model.heads, belongs to the
    /// run that leaves heads at its default (the one 0.3.0 had); a real difference is
    /// still named.
    func testACheckpointWithoutModelHeadsResumes() throws {
        let dir = ScratchDirectory()
        defer { removeTree(dir.path) }
        let config = tinyConfig(epochs: 2)
        let count = 6
        var optimizer = try makeOptimizer(config.training, count: count)
        let checkpoint = TrainingCheckpoint(epoch: 1, step: 2, examplesSeen: 3, seconds: 0.5, rng: SeededGenerator(seed: 4),
                                            earlyStopping: nil, epochs: [])
        let old = removingConfigKey("model.heads", from: config.checkpointIdentity).serialized
        XCTAssertFalse(old.contains("heads"))
        try checkpoint.save(to: dir.file("c"), identity: .init(config: old, data: 9), parameters: FloatBuffer.zeros(count: count),
                            count: count, order: [1, 0], optimizer: optimizer, best: nil)
        func load(_ run: Config) throws -> TrainingCheckpoint {
            var order: [Int32] = [0, 0]
            let loaded = try TrainingCheckpoint.load(from: dir.file("c"), identity: .init(config: run.checkpointIdentity.serialized, data: 9),
                                                     parameters: FloatBuffer.zeros(count: count), count: count, order: &order,
                                                     optimizer: &optimizer, best: nil)
            XCTAssertEqual(order, [1, 0])
            return loaded
        }
        XCTAssertEqual(try load(config).epoch, 1)
        var other = config
        other.model.heads = 2
        assertThrowsTextModelError(.config, mentioning: ["model.heads was 4, now 2"]) { try load(other) }
        other = config
        other.model.hiddenDim += 1
        assertThrowsTextModelError(.config, mentioning: ["model.hidden_dim was \(config.model.hiddenDim), now \(other.model.hiddenDim)"]) {
            try load(other)
        }
    }

    func testDamagedCheckpointsAreRefusedAndLeaveTheModelUntouched() throws {
        let dir = ScratchDirectory()
        defer { removeTree(dir.path) }
        var config = tinyConfig(epochs: 1)
        config.training.checkpointPath = dir.file("c")
        try Model(config: config).train(KeywordData.make(count: 40, seed: 1))
        let good = readBytes(dir.file("c"))
        config.training.resume = true
        let classifier = Model(config: config)
        var rng = SeededGenerator(seed: 3)
        for trial in 0..<30 {
            var bytes = good
            if trial < 10 {
                bytes = Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count))))   // truncated
            } else {
                let at = Int(rng.next() % UInt64(bytes.count))                       // one flipped bit
                bytes[at] ^= UInt8(1 << (rng.next() % 8))
            }
            writeBytes(dir.file("c"), bytes)
            do {
                try classifier.train(KeywordData.make(count: 40, seed: 1))
                // A flip in header padding or a report figure may leave a usable file.
                XCTAssertTrue(trial >= 10, "a truncated checkpoint loaded (trial \(trial))")
            } catch let e as TextModelError {
                XCTAssertTrue([.modelFormat, .config, .data].contains(e.kind), "trial \(trial): \(e.message)")
                XCTAssertFalse(classifier.isTrained, "a failed resume leaves the classifier as it was")
            }
        }
        // A model file is not a checkpoint.
        let model = Model(config: tinyConfig(epochs: 1))
        try model.train(KeywordData.make(count: 40, seed: 1))
        try model.save(to: dir.file("c"))
        assertThrowsTextModelError(.modelFormat, mentioning: ["checkpoint"]) { try Model(config: config).train(KeywordData.make(count: 40, seed: 1)) }
    }
}
