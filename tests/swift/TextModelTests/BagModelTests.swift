import XCTest
@testable import TextModel

/// The fastText-style bag model, hashed n-grams, learning-rate schedules and the
/// sparse SGD update path.
final class BagModelTests: XCTestCase {
    private func bagConfig(ngrams: Int = 2, buckets: Int = 50) -> Config {
        var c = Config(modelType: .lstm)
        c.model.type = .bag
        c.model.embeddingDim = 6
        c.tokenizer.wordNgrams = ngrams
        c.tokenizer.buckets = buckets
        c.tokenizer.minFreq = 1
        return c
    }

    func testBagNetworkGradientsMatchFiniteDifferences() {
        let network = Network.make(bagConfig(), vocabulary: 20, classes: 3)
        let params = FloatBuffer.zeros(count: network.layout.count)
        var rng = SeededGenerator(seed: 5)
        network.initialize(params.pointer, rng: &rng)
        // Non-zero classifier so every gradient path is exercised.
        for i in 0..<network.layout.count { params.pointer[i] += rng.uniform(-0.3, 0.3) }
        let sequences: [[Int32]] = [[3, 4, 5, 4], [7, 19], [1]]
        let targets: [Int32] = [2, 0, 1]
        let ws = network.makeWorkspace()
        ws.batch.pack(sequences.map { $0[...] })
        func loss() -> Double {
            network.forward(params.pointer, batch: ws.batch, workspace: ws)
            return targets.withUnsafeBufferPointer {
                SoftmaxCrossEntropy.loss(probs: network.outputs(ws), targets: $0.baseAddress!, rows: 3, classes: 3)
            }
        }
        let grads = FloatBuffer.zeros(count: network.layout.count)
        _ = loss()
        targets.withUnsafeBufferPointer {
            network.backward(params.pointer, batch: ws.batch, targets: $0.baseAddress!, scale: 1, workspace: ws, grads: grads.pointer)
        }
        var checked = 0
        for i in 0..<network.layout.count {
            let saved = params.pointer[i]
            let eps: Float = 1e-2
            params.pointer[i] = saved + eps
            let up = loss()
            params.pointer[i] = saved - eps
            let down = loss()
            params.pointer[i] = saved
            let numeric = (up - down) / Double(2 * eps)
            let analytic = Double(grads.pointer[i])
            XCTAssertLessThan(abs(numeric - analytic) / max(1e-2, abs(numeric) + abs(analytic)), 1e-2, "parameter \(i)")
            if analytic != 0 { checked += 1 }
        }
        XCTAssertGreaterThan(checked, 20, "most used parameters have a gradient")
    }

    func testNGramHashingIsDeterministicAndInRange() {
        let hasher = NGramHasher(order: 3, buckets: 97)
        let tokens = ["not", "very", "good", "at", "all"]
        let a = hasher.features(of: tokens, base: 10)
        XCTAssertEqual(a, hasher.features(of: tokens, base: 10))
        XCTAssertEqual(a.count, 4 + 3, "4 bigrams and 3 trigrams")
        XCTAssertTrue(a.allSatisfy { $0 >= 10 && $0 < 107 })
        XCTAssertNotEqual(hasher.features(of: ["ab", "c"], base: 0), hasher.features(of: ["a", "bc"], base: 0))
        XCTAssertEqual(NGramHasher(order: 1, buckets: 97).features(of: tokens, base: 10), [])
    }

    func testUnseenWordsStillGetBigramFeaturesFromSeenWords() throws {
        let vocabulary = Vocabulary.build(from: [["good", "movie"]], minFreq: 1, maxSize: 10)
        let encoder = FeatureEncoder(config: bagConfig(buckets: 1000).tokenizer, vocabulary: vocabulary)
        let ids = encoder.encode("good movie")
        XCTAssertEqual(ids.count, 3)
        XCTAssertEqual(Array(ids[0..<2]), [vocabulary.id(of: "good"), vocabulary.id(of: "movie")])
        XCTAssertGreaterThanOrEqual(Int(ids[2]), vocabulary.count)
    }

    func testNGramsNeedTheBagModel() {
        XCTAssertThrowsError(try Config(json: #"{"tokenizer": {"word_ngrams": 2}, "model": {"type": "cnn"}}"#)) { error in
            XCTAssertTrue((error as? TextModelError)?.message.contains("tokenizer.word_ngrams") ?? false)
        }
        XCTAssertNoThrow(try Config(json: #"{"tokenizer": {"word_ngrams": 2}, "model": {"type": "bag"}}"#))
    }

    func testSchedules() throws {
        var t = Config.Training()
        t.lrSchedule = .linear
        let linear = LearningRateSchedule(config: t, totalSteps: 10, stepsPerEpoch: 5)
        XCTAssertEqual(linear.multiplier(atStep: 1), 1, accuracy: 1e-12)
        XCTAssertEqual(linear.multiplier(atStep: 6), 0.5, accuracy: 1e-12)
        XCTAssertEqual(linear.multiplier(atStep: 10), 0.1, accuracy: 1e-12)
        t.lrSchedule = .cosine
        let cosine = LearningRateSchedule(config: t, totalSteps: 10, stepsPerEpoch: 10)
        XCTAssertEqual(cosine.multiplier(atStep: 1), 1, accuracy: 1e-12)
        XCTAssertEqual(cosine.multiplier(atStep: 6), 0.5, accuracy: 1e-12)   // halfway: cos(π/2) = 0
        t.lrSchedule = .step; t.lrStepEpochs = 2; t.lrStepFactor = 0.5
        let step = LearningRateSchedule(config: t, totalSteps: 30, stepsPerEpoch: 5)
        XCTAssertEqual(step.multiplier(atStep: 10), 1, accuracy: 1e-12)    // epochs 1-2
        XCTAssertEqual(step.multiplier(atStep: 11), 0.5, accuracy: 1e-12)  // epoch 3
        XCTAssertEqual(step.multiplier(atStep: 21), 0.25, accuracy: 1e-12) // epoch 5
        t.lrSchedule = .constant; t.warmupSteps = 3
        let warm = LearningRateSchedule(config: t, totalSteps: 10, stepsPerEpoch: 10)
        XCTAssertEqual([1, 2, 3, 4].map { warm.multiplier(atStep: $0) }, [0.25, 0.5, 0.75, 1])
    }

    func testSGDFollowsTheScheduledRate() {
        var sgd = SGD(count: 1, learningRate: 0.5, momentum: 0)
        let p = FloatBuffer.zeros(count: 1), g = FloatBuffer.zeros(count: 1)
        p.pointer[0] = 1
        g.pointer[0] = 2
        sgd.beginStep(learningRateScale: 0.1)
        sgd.update(params: p.pointer, grads: g.pointer, range: 0..<1)
        XCTAssertEqual(p.pointer[0], 1 - 0.05 * 2, accuracy: 1e-7)
    }

    func testBagModelLearnsKeywordsAndRoundTrips() throws {
        var config = bagConfig(buckets: 500)
        config.model.embeddingDim = 16
        config.training.optimizer = .sgd
        config.training.learningRate = 0.5
        config.training.lrSchedule = .linear
        config.training.batchSize = 1
        config.training.epochs = 5
        config.training.threads = 1
        let (train, test) = (KeywordData.make(count: 300, seed: 1), KeywordData.make(count: 90, seed: 2))
        let classifier = Model(config: config)
        try classifier.train(train)
        XCTAssertGreaterThanOrEqual(try classifier.evaluate(test).accuracy ?? -1, 0.9)
        let dir = ScratchDirectory()
        try classifier.save(to: dir.file("bag.safetensors"))
        let loaded = try Model.load(from: dir.file("bag.safetensors"))
        XCTAssertEqual(try loaded.predictProbabilities(test.texts), try classifier.predictProbabilities(test.texts))
    }

    func testSparseSGDMatchesDenseSGD() throws {
        // Plain SGD skips untouched embedding rows; momentum 1e-9 forces the dense path
        // with (numerically) the same update, so the two must agree closely.
        func train(momentum: Double) throws -> [Float] {
            var config = bagConfig(buckets: 200)
            config.training.optimizer = .sgd
            config.training.learningRate = 0.3
            config.training.momentum = momentum
            config.training.batchSize = 4
            config.training.epochs = 2
            config.training.threads = 1
            let c = Model(config: config)
            try c.train(KeywordData.make(count: 60, seed: 3))
            return try c.predictProbabilities(KeywordData.make(count: 30, seed: 4).texts)
        }
        let sparse = try train(momentum: 0), dense = try train(momentum: 1e-9)
        XCTAssertEqual(sparse.count, dense.count)
        for (a, b) in zip(sparse, dense) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }
}
