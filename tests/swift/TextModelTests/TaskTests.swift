// Multi-label and regression: the output heads' losses and gradients (by hand and
// against finite differences through every encoder), their metrics against values
// worked out by hand, reading several labels per text, and learning generated data
// whose rule is known.
#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import TextModel

final class TaskTests: XCTestCase {

    // MARK: heads

    func testSigmoidHeadLossAndGradientByHand() {
        let logits: [Float] = [0, 2, -1, 0.5]   // 2 rows × 2 labels
        let y: [Float] = [1, 0, 0, 1]
        var out = [Float](repeating: 0, count: 4), d = [Float](repeating: 0, count: 4)
        SigmoidBinaryCrossEntropyLoss().activate(logits: logits, rows: 2, width: 2, outputs: &out)
        let p = logits.map { 1 / (1 + exp(-Double($0))) }
        for i in 0..<4 { XCTAssertEqual(Double(out[i]), p[i], accuracy: 1e-6) }
        // Row 0: −log σ(0) − log(1 − σ(2)); row 1: −log(1 − σ(−1)) − log σ(0.5); weights 2 and 1.
        let expected = 2 * (-log(p[0]) - log(1 - p[1])) + (-log(1 - p[2]) - log(p[3]))
        let weights: [Float] = [2, 1]
        y.withUnsafeBufferPointer { yv in
            weights.withUnsafeBufferPointer { w in
                let targets = LossTargets(values: yv.baseAddress, weights: w.baseAddress, scale: 0.5)
                XCTAssertEqual(SigmoidBinaryCrossEntropyLoss().loss(outputs: out, rows: 2, width: 2, targets: targets), expected, accuracy: 1e-5)
                SigmoidBinaryCrossEntropyLoss().backward(outputs: out, rows: 2, width: 2, targets: targets, dLogits: &d)
            }
        }
        for i in 0..<4 {
            let weight = i < 2 ? 2.0 : 1.0
            XCTAssertEqual(Double(d[i]), (p[i] - Double(y[i])) * weight * 0.5, accuracy: 1e-6, "dLogits[\(i)]")
        }
    }

    func testIdentityHeadIsSquaredError() {
        let logits: [Float] = [1.5, -2, 0.25]
        let y: [Float] = [1, 1, 0.25]
        var out = [Float](repeating: 0, count: 3), d = [Float](repeating: 0, count: 3)
        SquaredErrorLoss().activate(logits: logits, rows: 3, width: 1, outputs: &out)
        XCTAssertEqual(out, logits)
        y.withUnsafeBufferPointer { yv in
            let targets = LossTargets(values: yv.baseAddress, scale: 1 / 3.0)
            XCTAssertEqual(SquaredErrorLoss().loss(outputs: out, rows: 3, width: 1, targets: targets), 0.25 + 9 + 0, accuracy: 1e-6)
            SquaredErrorLoss().backward(outputs: out, rows: 3, width: 1, targets: targets, dLogits: &d)
        }
        XCTAssertEqual(d[0], 2 * 0.5 / 3, accuracy: 1e-6)
        XCTAssertEqual(d[1], 2 * -3 / 3, accuracy: 1e-6)
        XCTAssertEqual(d[2], 0)
    }

    func testSigmoidHeadNeverYieldsNaN() {
        let logits: [Float] = [.nan, .infinity, -.infinity, 90, -90]
        var out = [Float](repeating: -1, count: 5)
        SigmoidBinaryCrossEntropyLoss().activate(logits: logits, rows: 1, width: 5, outputs: &out)
        XCTAssertEqual(Array(out[0..<4]), [0, 1, 0, 1])   // NaN → "no"; ±∞ and ±90 saturate
        XCTAssertTrue(out[4] >= 0 && out[4] < 1e-30)
    }

    /// Every encoder, with the multi-label and the regression head: backward matches
    /// central differences of the head's loss.
    func testEveryEncoderWithEveryNewHeadMatchesFiniteDifferences() {
        for type in ["bag", "cnn", "lstm", "gru", "rnn", "transformer"] {
            for task in [Config.Task.multiLabel, .regression] {
                var config = Config(modelType: .lstm)
                config.model.type = Config.ModelType(rawValue: type)!
                config.model.task = task
                config.model.embeddingDim = 4
                config.model.hiddenDim = 3
                config.model.filters = 2
                config.model.kernelSizes = [1, 2]
                let width = task == .regression ? 1 : 3
                let network = NetworkBuilder.make(config: config, vocabularySize: 12, classes: width)
                let params = FloatBuffer.zeros(count: network.layout.count)
                var rng = SeededGenerator(seed: 9)
                network.initialize(params.pointer, rng: &rng)
                for i in 0..<network.layout.count { params.pointer[i] += rng.uniform(-0.3, 0.3) }
                let sequences: [[Int32]] = [[3, 4, 5, 4], [7, 11, 2], [1]]
                let values: [Float] = task == .regression ? [0.5, -1.25, 2] : [1, 0, 1, 0, 0, 1, 1, 1, 0]
                let ws = network.makeWorkspace()
                ws.batch.pack(sequences.map { $0[...] })
                values.withUnsafeBufferPointer { y in
                    let targets = LossTargets(values: y.baseAddress, scale: 1)
                    func loss() -> Double {
                        network.forward(params.pointer, batch: ws.batch, workspace: ws)
                        return network.loss.loss(outputs: network.outputs(ws), rows: 3, width: width, targets: targets)
                    }
                    let grads = FloatBuffer.zeros(count: network.layout.count)
                    _ = loss()
                    network.backward(params.pointer, batch: ws.batch, loss: targets, workspace: ws, grads: grads.pointer)
                    let significant = assertGradientsMatch("\(type) \(task.rawValue)", indices: Array(0..<network.layout.count),
                                                           analytic: { Double(grads.pointer[$0]) },
                                                           numeric: { numericDerivative(params.pointer, $0, eps: 1e-2, loss) })
                    XCTAssertGreaterThan(significant, 5, "\(type) \(task.rawValue): the check exercised gradients")
                }
            }
        }
    }

    // MARK: metrics

    /// 4 texts, labels a b c, threshold 0.5:
    ///   text 0: true {a, b}  scores a .9 b .4 c .6 → predicted {a, c}
    ///   text 1: true {c}     scores a .1 b .2 c .8 → predicted {c}       (exact)
    ///   text 2: true {a}     scores a .7 b .6 c .1 → predicted {a, b}
    ///   text 3: true {b, c}  scores a .3 b .9 c .5 → predicted {b, c}    (exact)
    func testMultiLabelMetricsByHand() {
        let m = MultiLabelMetrics(labels: ["a", "b", "c"], truth: [[0, 1], [2], [0], [1, 2]],
                                  scores: [[0.9, 0.4, 0.6], [0.1, 0.2, 0.8], [0.7, 0.6, 0.1], [0.3, 0.9, 0.5]],
                                  threshold: 0.5)
        // a: tp 2 (texts 0, 2), fp 0, fn 0.  b: tp 1 (3), fp 1 (2), fn 1 (0).  c: tp 2 (1, 3), fp 1 (0), fn 0.
        XCTAssertEqual(m.perLabel.map(\.truePositives), [2, 1, 2])
        XCTAssertEqual(m.perLabel.map(\.falsePositives), [0, 1, 1])
        XCTAssertEqual(m.perLabel.map(\.falseNegatives), [0, 1, 0])
        XCTAssertEqual(m.perLabel.map(\.support), [2, 2, 2])
        XCTAssertEqual(m.subsetAccuracy, 0.5)
        XCTAssertEqual(m.hammingLoss, 3.0 / 12)
        XCTAssertEqual(m.microPrecision, 5.0 / 7, accuracy: 1e-12)
        XCTAssertEqual(m.microRecall, 5.0 / 6, accuracy: 1e-12)
        XCTAssertEqual(m.microF1, 2 * (5.0 / 7) * (5.0 / 6) / (5.0 / 7 + 5.0 / 6), accuracy: 1e-12)
        XCTAssertEqual(m.macroPrecision, (1 + 0.5 + 2.0 / 3) / 3, accuracy: 1e-12)
        XCTAssertEqual(m.macroRecall, (1 + 0.5 + 1) / 3, accuracy: 1e-12)
        XCTAssertEqual(m.macroF1, (1 + 0.5 + 0.8) / 3, accuracy: 1e-12)
        // Rankings: 0: a c b; 1: c b a; 2: a b c; 3: b c a.
        // P@1 = (1 + 1 + 1 + 1) / 4; P@2 = (1/2 + 1/2 + 1/2 + 1) / 4; P@3 = (2 + 1 + 1 + 2) / 3 / 4.
        // R@1 = (1/2 + 1 + 1 + 1/2) / 4; R@2 = (1/2 + 1 + 1 + 1) / 4; R@3 = 1.
        XCTAssertEqual(m.atK.map(\.k), [1, 2, 3])
        XCTAssertEqual(m.atK[0].precision, 1, accuracy: 1e-12)
        XCTAssertEqual(m.atK[1].precision, 2.5 / 4, accuracy: 1e-12)
        XCTAssertEqual(m.atK[2].precision, 6.0 / 12, accuracy: 1e-12)
        XCTAssertEqual(m.atK[0].recall, 3.0 / 4, accuracy: 1e-12)
        XCTAssertEqual(m.atK[1].recall, 3.5 / 4, accuracy: 1e-12)
        XCTAssertEqual(m.atK[2].recall, 1, accuracy: 1e-12)
        let json = m.json
        XCTAssertEqual(json["task"]?.stringValue, "multi_label")
        XCTAssertEqual(json["precision_at_k"]?["2"]?.doubleValue ?? -1, 2.5 / 4, accuracy: 1e-12)
        XCTAssertEqual(json["per_class"]?["b"]?["f1"]?.doubleValue ?? -1, 0.5, accuracy: 1e-12)
    }

    func testMultiLabelThresholdIsInclusiveAndTiesRankByLabel() {
        let m = MultiLabelMetrics(labels: ["x", "y"], truth: [[1]], scores: [[0.5, 0.5]], threshold: 0.5)
        XCTAssertEqual(m.perLabel.map(\.falsePositives), [1, 0])   // 0.5 ≥ 0.5 predicts x too
        XCTAssertEqual(m.atK[0].precision, 0)                         // the tie ranks x first
        XCTAssertEqual(m.atK[1].recall, 1)
    }

    /// targets 1 2 3 4, predictions 1.5 2 2 5: errors .5 0 −1 1.
    func testRegressionMetricsByHand() {
        let m = RegressionMetrics(predictions: [1.5, 2, 2, 5], targets: [1, 2, 3, 4])
        XCTAssertEqual(m.meanSquaredError, (0.25 + 0 + 1 + 1) / 4, accuracy: 1e-12)
        XCTAssertEqual(m.meanAbsoluteError, 2.5 / 4, accuracy: 1e-12)
        XCTAssertEqual(m.rootMeanSquaredError, (2.25 / 4).squareRoot(), accuracy: 1e-12)
        // SS_tot around the mean 2.5: 2.25 + .25 + .25 + 2.25 = 5.
        XCTAssertEqual(m.r2, 1 - 2.25 / 5, accuracy: 1e-12)
        XCTAssertEqual(RegressionMetrics(predictions: [3, 3], targets: [3, 3]).r2, 1)
        XCTAssertEqual(RegressionMetrics(predictions: [3, 4], targets: [3, 3]).r2, 0)
        XCTAssertEqual(m.json["rmse"]?.doubleValue ?? -1, 0.75, accuracy: 1e-12)
    }

    // MARK: data

    func testFastTextLinesWithSeveralLabelsForAMultiLabelModel() throws {
        let text = "__label__a __label__b first text\n__label__c second\nno label here\n"
        var data = Config.Data()
        data.format = .fasttext
        let read = try LabelledTexts.parse(Array(text.utf8), source: "t.txt", config: data, multiLabel: true)
        XCTAssertEqual(read.labels, ["a|b", "c"])
        XCTAssertEqual(read.texts, ["first text", "second"])
        XCTAssertEqual(read.skippedMissingLabel, 1)
        assertThrowsTextModelError(.data, mentioning: ["t.txt:1", "2 labels", "multi_label"]) {
            _ = try LabelledTexts.parse(Array(text.utf8), source: "t.txt", config: data)
        }
        assertThrowsTextModelError(.data, mentioning: ["a|b", "label_separator"]) {
            _ = try LabelledTexts.parse(Array("__label__a|b __label__c text\n".utf8), source: "t.txt", config: data, multiLabel: true)
        }
    }

    func testJSONLLabelArrays() throws {
        let text = "{\"text\":\"one\",\"label\":[\"x\",\"y\"]}\n{\"text\":\"two\",\"label\":\"z\"}\n{\"text\":\"three\",\"label\":[]}\n"
        var data = Config.Data()
        data.format = .jsonl
        data.labelSeparator = ";"
        let read = try LabelledTexts.parse(Array(text.utf8), source: "d.jsonl", config: data, multiLabel: true)
        XCTAssertEqual(read.labels, ["x;y", "z"])
        XCTAssertEqual(read.skippedMissingLabel, 1)
        assertThrowsTextModelError(.data, mentioning: ["d.jsonl:1", "list", "multi_label"]) {
            _ = try LabelledTexts.parse(Array(text.utf8), source: "d.jsonl", config: data)
        }
        assertThrowsTextModelError(.data, mentioning: ["d.jsonl:1", "object"]) {
            _ = try LabelledTexts.parse(Array("{\"text\":\"t\",\"label\":[{}]}\n".utf8), source: "d.jsonl", config: data, multiLabel: true)
        }
    }

    func testSplittingLabelFields() {
        XCTAssertEqual(Targets.split(" a | b|a||c ", separator: "|"), ["a", "b", "c"])
        XCTAssertEqual(Targets.split("sports::news", separator: "::"), ["sports", "news"])
        XCTAssertEqual(Targets.split("|", separator: "|"), [])
    }

    // MARK: learning generated data

    /// Topic words: a text gets label T for each topic T whose word it contains (one to
    /// three topics per text, among filler). The rule is exact, so a model should learn
    /// it nearly perfectly, far above chance (guessing each label's base rate).
    static let topics = ["music": ["guitar", "song", "concert"], "travel": ["flight", "hotel", "beach"],
                         "money": ["bank", "price", "salary"], "health": ["doctor", "sleep", "vitamin"]]

    static func multiLabelData(count: Int, seed: UInt64) -> LabelledTexts {
        var rng = SeededGenerator(seed: seed)
        let names = topics.keys.sorted()
        var data = LabelledTexts()
        for _ in 0..<count {
            var chosen = names.filter { _ in rng.next() % 3 == 0 }
            if chosen.isEmpty { chosen = [names[Int(rng.next() % UInt64(names.count))]] }
            var words = (0..<(2 + Int(rng.next() % 5))).map { _ in KeywordData.filler[Int(rng.next() % UInt64(KeywordData.filler.count))] }
            for t in chosen {
                let w = topics[t]!
                words.insert(w[Int(rng.next() % UInt64(w.count))], at: Int(rng.next() % UInt64(words.count + 1)))
            }
            data.append(text: words.joined(separator: " "), label: chosen.joined(separator: "|"))
        }
        return data
    }

    func testMultiLabelModelLearnsTopicSets() throws {
        for type in ["bag", "lstm"] {
            var config = tinyConfig(embedding: 16, hidden: 16, epochs: 12, learningRate: 0.02)
            config.model.type = Config.ModelType(rawValue: type)!
            config.model.task = .multiLabel
            let classifier = Model(config: config)
            let report = try classifier.train(TaskTests.multiLabelData(count: 600, seed: 1), validation: TaskTests.multiLabelData(count: 100, seed: 2))
            XCTAssertEqual(classifier.labels, ["health", "money", "music", "travel"])
            XCTAssertNotNil(report.epochs.last?.validAccuracy)
            guard case .multiLabel(let m) = try classifier.evaluate(TaskTests.multiLabelData(count: 300, seed: 3)) else {
                return XCTFail("a multi-label model gives multi-label metrics")
            }
            XCTAssertGreaterThan(m.microF1, 0.95, type)
            XCTAssertGreaterThan(m.subsetAccuracy, 0.85, type)   // chance: about 0.1
            let predicted = try classifier.predictLabels(["my doctor said the flight was late", "a guitar"])
            XCTAssertEqual(predicted, [["health", "travel"], ["music"]], type)
            let probs = try classifier.predictProbabilities(["a guitar"])
            XCTAssertEqual(probs.count, 4)
            XCTAssertGreaterThan(probs[2], 0.5)
            XCTAssertLessThan(probs[0], 0.5)
        }
    }

    /// target = 2 · (count of "up") − (count of "down") + 10, over filler: an exact linear
    /// rule in word counts, learnable by a mean of embeddings only up to the text length,
    /// so the bag model uses sum-like features through its mean and bias; R² ≫ 0.
    static func regressionData(count: Int, seed: UInt64) -> LabelledTexts {
        var rng = SeededGenerator(seed: seed)
        var data = LabelledTexts()
        for _ in 0..<count {
            let up = Int(rng.next() % 4), down = Int(rng.next() % 4)
            var words = (0..<(1 + Int(rng.next() % 3))).map { _ in KeywordData.filler[Int(rng.next() % UInt64(KeywordData.filler.count))] }
            for _ in 0..<up { words.insert("up", at: Int(rng.next() % UInt64(words.count + 1))) }
            for _ in 0..<down { words.insert("down", at: Int(rng.next() % UInt64(words.count + 1))) }
            data.append(text: words.joined(separator: " "), label: String(2 * up - down + 10))
        }
        return data
    }

    func testRegressionModelLearnsACountingRule() throws {
        var config = tinyConfig(embedding: 16, hidden: 16, epochs: 15, learningRate: 0.01)
        config.model.task = .regression
        config.model.pooling = .mean
        let classifier = Model(config: config)
        let report = try classifier.train(TaskTests.regressionData(count: 800, seed: 1), validation: TaskTests.regressionData(count: 100, seed: 2))
        XCTAssertEqual(classifier.labels, [])
        XCTAssertNil(report.epochs.last?.validAccuracy)
        XCTAssertLessThan(report.epochs.last!.validLoss!, report.epochs.first!.validLoss!)
        guard case .regression(let m) = try classifier.evaluate(TaskTests.regressionData(count: 300, seed: 3)) else {
            return XCTFail("a regression model gives regression metrics")
        }
        XCTAssertGreaterThan(m.r2, 0.9)       // predicting the mean gives 0
        XCTAssertLessThan(m.meanAbsoluteError, 0.6)
        let values = try classifier.predictValues(["up up up", "down down down", "the"])
        XCTAssertEqual(values[0], 16, accuracy: 1.5)
        XCTAssertEqual(values[1], 7, accuracy: 1.5)
        XCTAssertEqual(values[2], 10, accuracy: 1.5)
        // Wrong kind of prediction for the task is an error, not a trap.
        assertThrowsTextModelError(.invalidArgument, mentioning: ["regression"]) { _ = try classifier.predictProbabilities(["x"]) }
        assertThrowsTextModelError(.invalidArgument, mentioning: ["regression"]) { _ = try classifier.predictLabels(["x"]) }
        let keyword = Model(config: tinyConfig())
        try keyword.train(KeywordData.make(count: 60, seed: 1))
        assertThrowsTextModelError(.invalidArgument, mentioning: ["regression model"]) { _ = try keyword.predictValues(["x"]) }
    }

    func testSavedMultiLabelAndRegressionModelsPredictTheSame() throws {
        let dir = ScratchDirectory()
        defer { removeTree(dir.path) }
        var config = tinyConfig(epochs: 1)
        config.model.task = .regression
        let regressor = Model(config: config)
        try regressor.train(TaskTests.regressionData(count: 100, seed: 1))
        try regressor.save(to: dir.file("r.tm"))
        let texts = ["up up", "down", "a b c"]
        XCTAssertEqual(try Model.load(from: dir.file("r.tm")).predictValues(texts), try regressor.predictValues(texts))

        config.model.task = .multiLabel
        let tagger = Model(config: config)
        try tagger.train(TaskTests.multiLabelData(count: 100, seed: 1))
        try tagger.save(to: dir.file("m.tm"))
        let loaded = try Model.load(from: dir.file("m.tm"))
        XCTAssertEqual(loaded.task, .multiLabel)
        XCTAssertEqual(try loaded.predictProbabilities(texts), try tagger.predictProbabilities(texts))

        // The regression scaling is covered by the metadata checksum.
        var bytes = readBytes(dir.file("r.tm"))
        let marker = Array("\\\"mean\\\":".utf8)
        guard let at = (0..<(bytes.count - marker.count)).first(where: { Array(bytes[$0..<($0 + marker.count)]) == marker }) else {
            return XCTFail("the file names its target mean")
        }
        let digit = at + marker.count + (bytes[at + marker.count] == UInt8(ascii: "-") ? 1 : 0)
        bytes[digit] = bytes[digit] == UInt8(ascii: "1") ? UInt8(ascii: "2") : UInt8(ascii: "1")
        assertThrowsTextModelError(.modelFormat, mentioning: ["checksum"]) { _ = try Model.load(bytes: bytes) }
    }

    // MARK: bad inputs

    func testRegressionTargetsMustBeVaryingNumbers() {
        var config = tinyConfig(epochs: 1)
        config.model.task = .regression
        var data = LabelledTexts()
        data.append(text: "one", label: "1.5")
        data.append(text: "two", label: "lots")
        assertThrowsTextModelError(.data, mentioning: ["lots", "example 2", "number"]) { try Model(config: config).train(data) }
        var constant = LabelledTexts()
        for t in ["a", "b", "c"] { constant.append(text: t, label: "4") }
        assertThrowsTextModelError(.data, mentioning: ["vary"]) { try Model(config: config).train(constant) }
        var infinite = LabelledTexts()
        infinite.append(text: "a", label: "1")
        infinite.append(text: "b", label: "inf")
        assertThrowsTextModelError(.data, mentioning: ["inf"]) { try Model(config: config).train(infinite) }
    }

    func testOptionsThatOnlyFitSingleLabelAreRefused() {
        assertThrowsTextModelError(.config, mentioning: ["label_smoothing", "multi_label"]) {
            _ = try Config(json: "{\"model\":{\"task\":\"multi_label\"},\"training\":{\"label_smoothing\":0.1}}")
        }
        assertThrowsTextModelError(.config, mentioning: ["class_weights", "regression"]) {
            _ = try Config(json: "{\"model\":{\"task\":\"regression\"},\"training\":{\"class_weights\":\"balanced\"}}")
        }
        assertThrowsTextModelError(.config, mentioning: ["early_stopping", "valid_loss"]) {
            _ = try Config(json: "{\"model\":{\"task\":\"regression\"},\"training\":{\"early_stopping\":\"valid_accuracy\"}}")
        }
        assertThrowsTextModelError(.config, mentioning: ["model.task"]) { _ = try Config(json: "{\"model\":{\"task\":\"ranking\"}}") }
        assertThrowsTextModelError(.config, mentioning: ["model.threshold"]) { _ = try Config(json: "{\"model\":{\"threshold\":1}}") }
        assertThrowsTextModelError(.config, mentioning: ["data.label_separator"]) { _ = try Config(json: "{\"data\":{\"label_separator\":\"\"}}") }
    }

    func testMultiLabelEvaluationNamesUnknownLabels() throws {
        var config = tinyConfig(epochs: 1)
        config.model.task = .multiLabel
        let tagger = Model(config: config)
        try tagger.train(TaskTests.multiLabelData(count: 50, seed: 1))
        var data = LabelledTexts()
        data.append(text: "a song", label: "music|cooking")
        assertThrowsTextModelError(.data, mentioning: ["cooking"]) { _ = try tagger.evaluate(data) }
    }
}
