// Training end to end on generated keyword data: it learns, it is reproducible, thread
// counts do not change the mathematics, bad data is refused, cancellation works, and a
// failed training leaves the previous model in place.
import XCTest
@testable import TextModel

final class TrainingTests: XCTestCase {

    static let train = KeywordData.make(count: 300, seed: 101)
    static let heldOut = KeywordData.make(count: 120, seed: 202)
    static let probe = KeywordData.make(count: 30, seed: 303).texts + ["", "zzz unknown", "pizza goal code"]

    private func config(threads: Int = 1, seed: UInt64 = 7, epochs: Int = 5) -> Config {
        var c = tinyConfig(embedding: 16, hidden: 16, epochs: epochs, threads: threads, seed: seed, batchSize: 16, learningRate: 0.02)
        c.training.progressEvery = 1
        return c
    }

    private func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

    func testLearnsKeywordData() throws {
        let classifier = Model(config: config())
        var stepReports = 0, epochReports = 0, lastStep = 0
        let report = try classifier.train(TrainingTests.train, validation: TrainingTests.heldOut) { p in
            switch p.kind {
            case .step:
                stepReports += 1
                XCTAssertEqual(p.step, lastStep + 1)
                lastStep = p.step
                XCTAssertTrue(p.runningLoss.isFinite)
            case .epoch:
                epochReports += 1
                XCTAssertTrue(p.validAccuracy.isFinite)
            case .loading:
                XCTFail("training on rows in memory reads no file")
            }
            XCTAssertEqual(p.totalSteps, 5 * 19)   // ceil(300 / 16) steps per epoch
            return false
        }
        XCTAssertEqual(stepReports, 95)
        XCTAssertEqual(epochReports, 5)
        XCTAssertFalse(report.cancelled)
        XCTAssertEqual(report.epochs.count, 5)
        XCTAssertEqual(report.trainExamples, 300)
        XCTAssertEqual(report.labels, KeywordData.classes)
        XCTAssertEqual(report.threads, 1)
        XCTAssertEqual(report.validExamples, 120)
        // pad, unk and every distinct lower-cased word (min_freq 1), plus "!".
        let words = Set(KeywordData.filler + KeywordData.keywords.joined() + ["!"])
        let seen = Set(TrainingTests.train.texts.flatMap { Tokenizer(Config.Tokenizer()).tokenize($0) })
        XCTAssertTrue(seen.isSubset(of: words))
        XCTAssertEqual(report.vocabularySize, 2 + seen.count)
        XCTAssertEqual(classifier.vocabularySize, report.vocabularySize)
        XCTAssertLessThan(report.epochs.last!.trainLoss, report.epochs.first!.trainLoss)
        XCTAssertNotNil(report.epochs.last!.validAccuracy)

        let metrics = try classifier.evaluate(TrainingTests.heldOut)
        XCTAssertGreaterThanOrEqual(metrics.accuracy ?? -1, 0.9, "held-out accuracy")
        XCTAssertEqual(metrics.examples, 120)
        XCTAssertEqual(report.epochs.last!.validAccuracy!, metrics.accuracy ?? -1, accuracy: 1e-9)
        XCTAssertTrue(metrics.meanLoss.isFinite)
        XCTAssertEqual(classifier.labels, KeywordData.classes)
        // A keyword alone is enough.
        let probs = try classifier.predictProbabilities(["pizza", "goal", "compiler"])
        for (i, expected) in [0, 1, 2].enumerated() {
            let row = Array(probs[(i * 3)..<(i * 3 + 3)])
            XCTAssertEqual(row.firstIndex(of: row.max()!), expected, "\(row)")
        }
        // The JSON report names what happened.
        let json = report.json
        XCTAssertEqual(json["train_examples"]?.doubleValue, 300)
        XCTAssertEqual(json["epochs"]?.arrayValue?.count, 5)
        XCTAssertEqual(json["cancelled"].map { if case .bool(let b) = $0 { return b }; return true }, false)
    }

    func testLearnsWithEveryPooling() throws {
        for pooling in SequencePooling.allCases {
            var c = config()
            c.model.pooling = pooling
            let classifier = Model(config: c)
            try classifier.train(TrainingTests.train)
            XCTAssertGreaterThanOrEqual(try classifier.evaluate(TrainingTests.heldOut).accuracy ?? -1, 0.85, "\(pooling) pooling")
        }
    }

    func testSameSeedSameThreadsIsBitIdentical() throws {
        let data = KeywordData.make(count: 120, seed: 5)
        func run(seed: UInt64, threads: Int) throws -> [Float] {
            let c = Model(config: config(threads: threads, seed: seed, epochs: 2))
            try c.train(data)
            return try c.predictProbabilities(TrainingTests.probe)
        }
        let a = try run(seed: 3, threads: 1), b = try run(seed: 3, threads: 1)
        XCTAssertEqual(bits(a), bits(b), "one thread, same seed")
        let other = try run(seed: 4, threads: 1)
        XCTAssertNotEqual(bits(a), bits(other), "the seed must matter")
        let c = try run(seed: 3, threads: 2), d = try run(seed: 3, threads: 2)
        XCTAssertEqual(bits(c), bits(d), "two threads, same seed")
    }

    func testThreadCountDoesNotChangeTheMathematics() throws {
        // Plain SGD: the summed gradient is the same whatever the split, up to rounding,
        // so threads 1, 2 and 3 must land on (nearly) the same weights. This checks that
        // the gradient reducer merges every worker's rows, embeddings included.
        let data = KeywordData.make(count: 48, seed: 9)
        func run(threads: Int, batch: Int, epochs: Int) throws -> [Float] {
            var c = config(threads: threads, epochs: epochs)
            c.training.optimizer = .sgd
            c.training.learningRate = 0.5
            c.training.batchSize = batch
            let classifier = Model(config: c)
            let report = try classifier.train(data)
            XCTAssertEqual(report.threads, threads)
            return try classifier.predictProbabilities(TrainingTests.probe)
        }
        for (batch, epochs) in [(48, 1), (10, 2)] {
            let one = try run(threads: 1, batch: batch, epochs: epochs)
            for threads in [2, 3] {
                let many = try run(threads: threads, batch: batch, epochs: epochs)
                for (x, y) in zip(one, many) {
                    XCTAssertEqual(x, y, accuracy: 1e-4, "threads \(threads), batch \(batch)")
                }
            }
        }
    }

    func testTextsWithoutTokensStillTrain() throws {
        // A zero-width joiner is not whitespace, so the row is kept, but the tokenizer
        // drops it: an empty sequence. Small batches and two threads make some worker
        // shards consist of empty sequences only.
        var data = KeywordData.make(count: 40, seed: 12)
        for i in 0..<12 { data.append(text: "\u{200D}", label: KeywordData.classes[i % 3]) }
        XCTAssertEqual(data.count, 52)
        for threads in [1, 2] {
            var c = config(threads: threads, epochs: 2)
            c.training.batchSize = 3
            let classifier = Model(config: c)
            let report = try classifier.train(data)
            XCTAssertEqual(report.trainExamples, 52)
            XCTAssertTrue(report.epochs.allSatisfy { $0.trainLoss.isFinite })
            let probs = try classifier.predictProbabilities(["\u{200D}", "pizza", ""])
            XCTAssertTrue(probs.allSatisfy { $0.isFinite && $0 >= 0 })
        }
    }

    func testBadDataIsRefused() {
        let classifier = Model(config: config(epochs: 1))
        var oneClass = LabelledTexts()
        for t in ["a b", "c d", "e f"] { oneClass.append(text: t, label: "only") }
        assertThrowsTextModelError(.data, mentioning: ["only"]) { try classifier.train(oneClass) }
        assertThrowsTextModelError(.data) { try classifier.train(LabelledTexts()) }
        var skippedOnly = LabelledTexts()
        skippedOnly.append(text: "", label: "a")
        skippedOnly.append(text: "text", label: nil)
        skippedOnly.append(text: "text", label: "")
        assertThrowsTextModelError(.data, mentioning: ["1", "2"]) { try classifier.train(skippedOnly) }
        var validation = LabelledTexts()
        validation.append(text: "pizza", label: "unseen-label")
        assertThrowsTextModelError(.data, mentioning: ["unseen-label"]) {
            try classifier.train(TrainingTests.train, validation: validation)
        }
        XCTAssertFalse(classifier.isTrained)
    }

    func testMemoryCapIsEnforced() {
        var c = config(epochs: 1)
        c.training.maxMemoryMB = 1
        c.model.hiddenDim = 512
        c.model.embeddingDim = 512
        let classifier = Model(config: c)
        assertThrowsTextModelError(.resource, mentioning: ["max_memory_mb"]) { try classifier.train(TrainingTests.train) }
        XCTAssertFalse(classifier.isTrained)
    }

    func testCancelFromAStepReport() throws {
        let classifier = Model(config: config(epochs: 3))
        var calls = 0
        let report = try classifier.train(TrainingTests.train) { p in
            calls += 1
            return p.kind == .step && p.step == 3
        }
        XCTAssertTrue(report.cancelled)
        XCTAssertEqual(calls, 3, "no report after cancelling")
        XCTAssertTrue(classifier.isTrained)
        let probs = try classifier.predictProbabilities(TrainingTests.probe)
        for i in 0..<TrainingTests.probe.count {
            XCTAssertEqual(Double(probs[(i * 3)..<(i * 3 + 3)].reduce(0, +)), 1, accuracy: 1e-5)
        }
        XCTAssertTrue(probs.allSatisfy { $0.isFinite })
    }

    /// A progress callback that trains its own classifier again would wait forever for
    /// the training it is called from; it gets a state error instead, and the outer
    /// training goes on. Another classifier trains normally from the same callback.
    func testTrainingFromItsOwnProgressCallbackIsRefused() throws {
        let classifier = Model(config: config(epochs: 2))
        let other = Model(config: config(epochs: 1))
        var refusals = 0, otherTrained = false
        let report = try classifier.train(TrainingTests.train) { p in
            guard p.kind == .epoch else { return false }
            XCTAssertTrue(classifier.isTrainingOnCurrentThread)
            let error = assertThrowsTextModelError(.state, mentioning: ["already running"]) {
                try classifier.train(TrainingTests.train)
            }
            if error != nil { refusals += 1 }
            if !otherTrained {
                XCTAssertFalse(other.isTrainingOnCurrentThread)
                do { try other.train(TrainingTests.heldOut) } catch { XCTFail("training another model: \(error)") }
                otherTrained = true
            }
            return false
        }
        XCTAssertEqual(refusals, 2)
        XCTAssertFalse(report.cancelled)
        XCTAssertTrue(other.isTrained)
        XCTAssertFalse(classifier.isTrainingOnCurrentThread, "cleared when training returns")
        // Another thread still waits its turn rather than being refused.
        var fromAnotherThread: Error? = nil
        Parallel.run(2) { w in
            if w == 1 { do { try classifier.train(TrainingTests.heldOut) } catch { fromAnotherThread = error } }
        }
        XCTAssertNil(fromAnotherThread)
    }

    func testCancelFromAnEpochReport() throws {
        let classifier = Model(config: config(epochs: 4))
        let report = try classifier.train(TrainingTests.train) { $0.kind == .epoch && $0.epoch == 2 }
        XCTAssertTrue(report.cancelled)
        XCTAssertEqual(report.epochs.count, 2)
        XCTAssertTrue(classifier.isTrained)
        XCTAssertNoThrow(try classifier.evaluate(TrainingTests.heldOut))
    }

    func testFailedTrainingLeavesThePreviousModelUnchanged() throws {
        let classifier = Model(config: config(epochs: 1))
        try classifier.train(TrainingTests.train)
        let before = try classifier.predictProbabilities(TrainingTests.probe)
        let labels = classifier.labels, vocabulary = classifier.vocabularySize
        var oneClass = LabelledTexts()
        oneClass.append(text: "a b", label: "solo")
        assertThrowsTextModelError(.data) { try classifier.train(oneClass) }
        assertThrowsTextModelError(.data) { try classifier.train(LabelledTexts()) }
        var validation = LabelledTexts()
        validation.append(text: "pizza", label: "unseen")
        assertThrowsTextModelError(.data) { try classifier.train(TrainingTests.train, validation: validation) }
        XCTAssertEqual(bits(try classifier.predictProbabilities(TrainingTests.probe)), bits(before))
        XCTAssertEqual(classifier.labels, labels)
        XCTAssertEqual(classifier.vocabularySize, vocabulary)
    }

    func testEvaluateRefusesUnknownLabelsAndEmptyData() throws {
        let classifier = Model(config: config(epochs: 1))
        try classifier.train(TrainingTests.train)
        var data = LabelledTexts()
        data.append(text: "pizza", label: "desserts")
        assertThrowsTextModelError(.data, mentioning: ["desserts"]) { try classifier.evaluate(data) }
        assertThrowsTextModelError(.data) { try classifier.evaluate(LabelledTexts()) }
    }

    func testTrainFromFiles() throws {
        let dir = ScratchDirectory()
        var csv = "label,text\n"
        for (t, l) in zip(TrainingTests.train.texts.prefix(60), TrainingTests.train.labels.prefix(60)) {
            XCTAssertFalse(t.contains("\""))
            csv += "\(l),\"\(t)\"\n"
        }
        csv += "food,\n"   // skipped: empty text
        writeText(dir.file("train.csv"), csv)
        var ft = ""
        for (t, l) in zip(TrainingTests.heldOut.texts.prefix(20), TrainingTests.heldOut.labels.prefix(20)) { ft += "__label__\(l) \(t)\n" }
        writeText(dir.file("valid.txt"), ft)
        let classifier = Model(config: config(epochs: 1))
        let report = try classifier.train(file: dir.file("train.csv"), validationFile: dir.file("valid.txt"))
        XCTAssertEqual(report.trainExamples, 60)
        XCTAssertEqual(report.skippedEmptyText, 1)
        XCTAssertEqual(report.validExamples, 20)
        XCTAssertEqual(try classifier.evaluate(file: dir.file("valid.txt")).examples, 20)
        assertThrowsTextModelError(.io) { try classifier.train(file: dir.file("missing.csv")) }
    }
}
