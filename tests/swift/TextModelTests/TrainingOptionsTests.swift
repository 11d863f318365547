import XCTest
@testable import TextModel

/// Optimizer variants, clipping, label smoothing, class weights, early stopping, the
/// validation split and character n-grams: each against a hand-computed expectation.
final class TrainingOptionsTests: XCTestCase {
    private func buffers(_ values: [Float]) -> FloatBuffer {
        let b = FloatBuffer.zeros(count: values.count)
        for (i, v) in values.enumerated() { b.pointer[i] = v }
        return b
    }

    func testNesterovMomentumUpdateRule() {
        // θ=1, g=0.5 twice, lr 0.1, μ 0.9. Step 1: v=0.5, θ -= 0.1·(0.5+0.45) → 0.905.
        // Step 2: v=0.95, θ -= 0.1·(0.5+0.855) → 0.7695.
        var sgd = SGD(count: 1, learningRate: 0.1, momentum: 0.9, nesterov: true)
        let p = buffers([1]), g = buffers([0.5])
        sgd.beginStep(); sgd.update(params: p.pointer, grads: g.pointer, range: 0..<1)
        XCTAssertEqual(p.pointer[0], 0.905, accuracy: 1e-6)
        g.pointer[0] = 0.5
        sgd.beginStep(); sgd.update(params: p.pointer, grads: g.pointer, range: 0..<1)
        XCTAssertEqual(p.pointer[0], 0.7695, accuracy: 1e-6)
    }

    func testSGDWeightDecayIsL2() {
        // g' = 0.5 + 0.1·2 = 0.7; θ = 2 − 0.1·0.7 = 1.93.
        var sgd = SGD(count: 1, learningRate: 0.1, momentum: 0, weightDecay: 0.1)
        let p = buffers([2]), g = buffers([0.5])
        sgd.beginStep(); sgd.update(params: p.pointer, grads: g.pointer, range: 0..<1)
        XCTAssertEqual(p.pointer[0], 1.93, accuracy: 1e-6)
        XCTAssertFalse(sgd.skipsZeroGradients, "decay moves untouched weights, so no sparse shortcut")
    }

    func testAdamWDecaysWeightsDecoupled() {
        // Step 1 of Adam moves θ by lr·sign(g) (m̂/√v̂ = ±1): with g = 0.3, lr 0.01, wd 0.5:
        // AdamW: θ = 2·(1 − 0.01·0.5) − 0.01 = 1.98.  Adam+L2 (g' = 1.3): θ = 2 − 0.01 = 1.99.
        var adamw = Adam(count: 1, learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-12, weightDecay: 0.5, decoupled: true)
        let p = buffers([2]), g = buffers([0.3])
        adamw.beginStep(); adamw.update(params: p.pointer, grads: g.pointer, range: 0..<1)
        XCTAssertEqual(p.pointer[0], 1.98, accuracy: 1e-6)
        var adam = Adam(count: 1, learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-12, weightDecay: 0.5)
        let q = buffers([2]), h = buffers([0.3])
        adam.beginStep(); adam.update(params: q.pointer, grads: h.pointer, range: 0..<1)
        XCTAssertEqual(q.pointer[0], 1.99, accuracy: 1e-6)
    }

    func testGradientClippingScalesToTheNorm() {
        let g = buffers([3, 4, 0])   // norm 5
        let norm = GradientClipping.clip(g.pointer, maxNorm: 1) { $0(0..<3) }
        XCTAssertEqual(norm, 5, accuracy: 1e-9)
        XCTAssertEqual(g.pointer[0], 0.6, accuracy: 1e-5)
        XCTAssertEqual(g.pointer[1], 0.8, accuracy: 1e-5)
        let small = buffers([0.3, 0.4])
        GradientClipping.clip(small.pointer, maxNorm: 1) { $0(0..<2) }
        XCTAssertEqual(small.pointer[0], 0.3, "below the limit nothing changes")
    }

    func testLabelSmoothingLossAndGradient() {
        // p = (0.7, 0.2, 0.1), target 0, ε = 0.3: q = (0.8, 0.1, 0.1).
        let probs = buffers([0.7, 0.2, 0.1])
        let targets: [Int32] = [0]
        targets.withUnsafeBufferPointer { t in
            let loss = LossTargets(targets: t.baseAddress!, smoothing: 0.3, scale: 1)
            let expected = -(0.8 * log(0.7) + 0.1 * log(0.2) + 0.1 * log(0.1))
            XCTAssertEqual(SoftmaxCrossEntropy.loss(probs: probs.pointer, rows: 1, classes: 3, loss: loss), expected, accuracy: 1e-6)
            let d = FloatBuffer.zeros(count: 3)
            SoftmaxCrossEntropy.backward(probs: probs.pointer, rows: 1, classes: 3, loss: loss, dLogits: d.pointer)
            XCTAssertEqual(d.pointer[0], -0.1, accuracy: 1e-6)
            XCTAssertEqual(d.pointer[1], 0.1, accuracy: 1e-6)
            XCTAssertEqual(d.pointer[2], 0.0, accuracy: 1e-6)
        }
    }

    func testWeightedLossGradientMatchesFiniteDifferences() {
        // The weighted, smoothed loss through softmax, checked numerically on the logits.
        let logits: [Float] = [0.2, -0.4, 1.1, 0.5, 0.3, -0.9]
        let targets: [Int32] = [2, 0]
        let weights: [Float] = [2.5, 0.5]
        func lossValue(_ z: [Float]) -> Double {
            let p = FloatBuffer.zeros(count: 6)
            z.withUnsafeBufferPointer { SoftmaxCrossEntropy.softmax(logits: $0.baseAddress!, rows: 2, classes: 3, probs: p.pointer) }
            return targets.withUnsafeBufferPointer { t in weights.withUnsafeBufferPointer { w in
                SoftmaxCrossEntropy.loss(probs: p.pointer, rows: 2, classes: 3,
                                         loss: LossTargets(targets: t.baseAddress!, weights: w.baseAddress, smoothing: 0.1, scale: 1))
            } } / 3.0
        }
        let p = FloatBuffer.zeros(count: 6), d = FloatBuffer.zeros(count: 6)
        logits.withUnsafeBufferPointer { SoftmaxCrossEntropy.softmax(logits: $0.baseAddress!, rows: 2, classes: 3, probs: p.pointer) }
        targets.withUnsafeBufferPointer { t in weights.withUnsafeBufferPointer { w in
            SoftmaxCrossEntropy.backward(probs: p.pointer, rows: 2, classes: 3,
                                         loss: LossTargets(targets: t.baseAddress!, weights: w.baseAddress, smoothing: 0.1, scale: 1 / 3.0),
                                         dLogits: d.pointer)
        } }
        for i in 0..<6 {
            var up = logits, down = logits
            up[i] += 1e-2; down[i] -= 1e-2
            let numeric = (lossValue(up) - lossValue(down)) / 2e-2
            XCTAssertEqual(Double(d.pointer[i]), numeric, accuracy: 1e-3, "logit \(i)")
        }
    }

    private func smallConfig() -> Config {
        var c = Config(modelType: .lstm)
        c.model.embeddingDim = 8
        c.model.hiddenDim = 8
        c.tokenizer.minFreq = 1
        c.training.learningRate = 0.02
        c.training.batchSize = 16
        c.training.epochs = 3
        c.training.threads = 1
        return c
    }

    func testBalancedClassWeights() throws {
        var data = LabelledTexts()
        for i in 0..<9 { data.append(text: "word \(i)", label: "a") }
        for i in 0..<3 { data.append(text: "other \(i)", label: "b") }
        let set = try TrainingSet(config: smallConfig(), data: data, validation: nil)
        // 12 examples, 2 classes: a → 12/(2·9), b → 12/(2·3).
        let w = try set.classWeights(.balanced)
        XCTAssertEqual(w[0], 12.0 / 18.0, accuracy: 1e-6)
        XCTAssertEqual(w[1], 2.0, accuracy: 1e-6)
        XCTAssertEqual(try set.classWeights(.explicit(["b": 3])), [1, 3])
        XCTAssertThrowsError(try set.classWeights(.explicit(["c": 3])))
    }

    func testValidationFractionHoldsOutSeededRows() throws {
        var config = smallConfig()
        config.training.validationFraction = 0.25
        let data = KeywordData.make(count: 80, seed: 9)
        let a = try TrainingSet(config: config, data: data, validation: nil)
        let b = try TrainingSet(config: config, data: data, validation: nil)
        XCTAssertEqual(a.validExamples.count, 20)
        XCTAssertEqual(a.examples.count, 60)
        XCTAssertEqual(a.validExamples, b.validExamples, "the same seed holds out the same rows")
        config.training.seed = 2
        XCTAssertNotEqual(try TrainingSet(config: config, data: data, validation: nil).validExamples, a.validExamples)
    }

    func testEarlyStoppingKeepsTheBestEpoch() throws {
        var config = smallConfig()
        config.training.epochs = 12
        config.training.earlyStopping = .validLoss
        config.training.patience = 1
        config.training.learningRate = 0.05
        let classifier = Model(config: config)
        let validation = KeywordData.make(count: 40, seed: 21)
        let report = try classifier.train(KeywordData.make(count: 120, seed: 20), validation: validation)
        let best = try XCTUnwrap(report.bestEpoch)
        let losses = report.epochs.compactMap(\.validLoss)
        XCTAssertEqual(losses.firstIndex(of: losses.min()!)! + 1, best, "best epoch is the lowest validation loss")
        if report.stoppedEarly {
            XCTAssertEqual(report.epochs.count, best + 1, "patience 1 stops one epoch after the best")
        }
        // The kept weights are the best epoch's: their validation loss is the minimum.
        let metrics = try classifier.evaluate(validation)
        XCTAssertEqual(metrics.meanLoss, losses.min()!, accuracy: 1e-4)
    }

    func testEarlyStoppingNeedsValidationData() {
        var config = smallConfig()
        config.training.earlyStopping = .validAccuracy
        XCTAssertThrowsError(try Model(config: config).train(KeywordData.make(count: 30, seed: 1))) { error in
            XCTAssertEqual((error as? TextModelError)?.kind, .data)
        }
    }

    func testTrainingWithAllOptionsLearns() throws {
        var config = smallConfig()
        config.training.optimizer = .adamw
        config.training.weightDecay = 0.01
        config.training.clipNorm = 1
        config.training.labelSmoothing = 0.1
        config.training.classWeights = .balanced
        config.training.lrSchedule = .cosine
        config.training.warmupSteps = 3
        config.training.epochs = 10
        config.training.learningRate = 0.03
        config.training.validationFraction = 0.2
        let classifier = Model(config: config)
        try classifier.train(KeywordData.make(count: 300, seed: 5))
        XCTAssertGreaterThanOrEqual(try classifier.evaluate(KeywordData.make(count: 90, seed: 6)).accuracy ?? -1, 0.9)
    }

    func testCharacterNgramsGiveUnseenWordsFeatures() {
        let vocabulary = Vocabulary.build(from: [["refund"]], minFreq: 1, maxSize: 10)
        var t = Config.Tokenizer()
        t.charNgramsMin = 3
        t.charNgramsMax = 4
        t.buckets = 1000
        let encoder = FeatureEncoder(config: t, vocabulary: vocabulary)
        let seen = encoder.encode("refund"), unseen = encoder.encode("refunds")
        XCTAssertEqual(unseen.first, Vocabulary.unknownID)
        // "<refund>" has 6 trigrams and 5 four-grams; "<refunds>" shares all but its last ones.
        XCTAssertEqual(seen.count, 1 + 6 + 5)
        XCTAssertGreaterThanOrEqual(Set(seen.dropFirst()).intersection(Set(unseen.dropFirst())).count, 8)
        XCTAssertTrue(unseen.dropFirst().allSatisfy { Int($0) >= vocabulary.count && Int($0) < vocabulary.count + 1000 })
    }

    func testConfigRulesForTheNewKeys() {
        for (json, key) in [
            (#"{"training": {"nesterov": true}}"#, "training.nesterov"),
            (#"{"training": {"class_weights": "even"}}"#, "training.class_weights"),
            (#"{"training": {"class_weights": {"a": 0}}}"#, "training.class_weights.a"),
            (#"{"training": {"early_stopping": "soon"}}"#, "training.early_stopping"),
            (#"{"training": {"validation_fraction": 0.95}}"#, "training.validation_fraction"),
            (#"{"training": {"lr_schedule": "step"}}"#, "training.lr_step_epochs"),
            (#"{"tokenizer": {"char_ngrams_min": 0, "char_ngrams_max": 4}, "model": {"type": "bag"}}"#, "tokenizer.char_ngrams_min"),
            (#"{"tokenizer": {"char_ngrams_min": 5, "char_ngrams_max": 4}}"#, "tokenizer.char_ngrams_min"),
            (#"{"tokenizer": {"char_ngrams_min": 2, "char_ngrams_max": 4}, "model": {"type": "lstm"}}"#, "tokenizer.char_ngrams_max"),
        ] {
            XCTAssertThrowsError(try Config(json: json), json) { error in
                let message = (error as? TextModelError)?.message ?? ""
                XCTAssertTrue(message.contains(key), "\(json): \(message)")
            }
        }
    }

    func testSoftmaxAlwaysGivesADistribution() {
        // Scores a damaged model can produce (found by fuzzing the model loader).
        let rows: [[Float]] = [[.nan, 1, 2], [.infinity, 0, .infinity], [.nan, .nan, .nan],
                               [-.infinity, -.infinity, -.infinity], [.nan, -.infinity, 3], [1e30, -1e30, 0]]
        let expected: [[Float]] = [[0, 1 / (1 + exp(1)), exp(1) / (1 + exp(1))], [0.5, 0, 0.5], [1 / 3, 1 / 3, 1 / 3],
                                   [1 / 3, 1 / 3, 1 / 3], [0, 0, 1], [1, 0, 0]]
        let p = FloatBuffer.zeros(count: 3)
        for (z, want) in zip(rows, expected) {
            z.withUnsafeBufferPointer { SoftmaxCrossEntropy.softmax(logits: $0.baseAddress!, rows: 1, classes: 3, probs: p.pointer) }
            for j in 0..<3 { XCTAssertEqual(p.pointer[j], want[j], accuracy: 1e-6, "\(z)") }
        }
    }
}
