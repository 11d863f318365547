import XCTest
@testable import TextModel

/// DP-SGD (training.privacy): the RDP accountant against Opacus and dp-accounting, the
/// σ search, per-example clipping and noise, the config's refusals, and the privacy
/// record through training, the report and the model file.
final class PrivacyTests: XCTestCase {
    // MARK: accountant

    private func fixture() throws -> JSONValue {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        parts.removeLast(4)
        let path = (parts + ["tests", "fixtures", "privacy", "rdp_reference.json"]).joined(separator: "/")
        return try JSONValue.parse(String(decoding: readBytes(path), as: UTF8.self), what: "the fixture")
    }

    static let opacusOrders: [Double] = (1..<100).map { 1 + Double($0) / 10 } + (12...63).map(Double.init)

    func testAccountantMatchesOpacusAndDPAccounting() throws {
        guard let rows = try fixture()["rows"]?.arrayValue, rows.count >= 20 else { return XCTFail("no fixture rows") }
        for row in rows {
            let q = row["q"]!.doubleValue!, sigma = row["sigma"]!.doubleValue!
            let steps = Int(row["steps"]!.doubleValue!), delta = row["delta"]!.doubleValue!
            let tolerance = sigma >= 1 ? 1e-3 : 1e-2
            let ours = RDPAccountant.epsilon(samplingRate: q, noiseMultiplier: sigma, steps: steps, delta: delta)
            let dp = row["dp_accounting"]!.doubleValue!
            XCTAssertEqual(ours, dp, accuracy: tolerance * dp, "dp-accounting q \(q) σ \(sigma) steps \(steps) δ \(delta)")
            let oursOpacus = RDPAccountant.epsilon(samplingRate: q, noiseMultiplier: sigma, steps: steps, delta: delta,
                                                   orders: PrivacyTests.opacusOrders)
            let opacus = row["opacus"]!.doubleValue!
            XCTAssertEqual(oursOpacus, opacus, accuracy: tolerance * opacus, "Opacus q \(q) σ \(sigma) steps \(steps) δ \(delta)")
        }
        // Figures quoted in issue 13 (Opacus's unit test: 7.32911117143).
        XCTAssertEqual(RDPAccountant.epsilon(samplingRate: 0.04, noiseMultiplier: 1.5, steps: 2_250, delta: 1e-5,
                                             orders: PrivacyTests.opacusOrders), 7.32911117143, accuracy: 1e-4)
        XCTAssertEqual(RDPAccountant.epsilon(samplingRate: 0.01, noiseMultiplier: 1.1, steps: 10_000, delta: 1e-5), 5.6320, accuracy: 1e-3)
    }

    func testNoiseSearchLandsJustUnderTheTarget() throws {
        let n = 29_794, batch = 64, epochs = 5
        for target in [1.0, 3.0, 8.0] {
            var p = PrivacyConfig()
            p.targetEpsilon = target
            p.delta = 1e-5
            let sigma = try Trainer.noiseMultiplier(p, examples: n, batchSize: batch, epochs: epochs)
            let eps = RDPAccountant.epsilon(samplingRate: Double(batch) / Double(n), noiseMultiplier: sigma,
                                            steps: DPSGDStep.stepsPerEpoch(examples: n, batchSize: batch) * epochs, delta: 1e-5)
            XCTAssertLessThanOrEqual(eps, target)
            XCTAssertGreaterThanOrEqual(eps, 0.95 * target)
        }
    }

    // MARK: the step

    private func privateConfig(type: Config.ModelType = .bag, sigma: Double = 0, clip: Double = 1,
                               sampling: PrivacyConfig.Sampling = .poisson) -> Config {
        var c = Config(modelType: type)
        c.tokenizer.vocabulary = .hashed
        c.tokenizer.buckets = 4_000
        c.tokenizer.wordNgrams = 1
        c.tokenizer.charNgramsMax = 0
        c.tokenizer.charNgramsMin = 0
        c.model.embeddingDim = 8
        c.model.hiddenDim = 8
        c.model.labels = KeywordData.classes
        c.training.optimizer = .sgd
        c.training.learningRate = 1
        c.training.lrSchedule = .constant
        c.training.batchSize = 16
        c.training.threads = 2
        c.training.epochs = 1
        var p = PrivacyConfig()
        p.noiseMultiplier = sigma
        p.maxGradNorm = clip
        p.sampling = sampling
        c.training.privacy = p
        return c
    }

    private struct Rig {
        var step: DPSGDStep
        var state: TrainingState
        let set: TrainingSet
        let network: Network
        var weights: [Float] { array(state.parameters.pointer, network.layout.count) }
    }

    private func rig(_ c: Config, data: LabelledTexts, sigma: Double) throws -> Rig {
        let set = try TrainingSet(config: c, data: data, validation: nil)
        let network = NetworkBuilder.make(config: c, vocabularySize: set.vocabulary.count, classes: set.width)
        let workspaces = (0..<2).map { _ in network.makeWorkspace() }
        for ws in workspaces { try ws.prepare(for: .bound(texts: 1, longest: set.examples.longest)) }
        let count = network.layout.count
        let parameters = try FloatBuffer.allocate(count: count, what: "weights")
        var rng = SeededGenerator(seed: 3)
        network.initialize(parameters.pointer, rng: &rng)
        let t = c.training
        let state = TrainingState(parameters: parameters, optimizer: try makeOptimizer(t, count: count), rng: rng,
                                  totalSteps: 100, schedule: LearningRateSchedule(config: t, totalSteps: 100, stepsPerEpoch: 10))
        let step = try DPSGDStep(config: c, network: network, set: set, classWeights: try set.classWeights(t.classWeights),
                                 workspaces: workspaces, noiseMultiplier: sigma)
        return Rig(step: step, state: state, set: set, network: network)
    }

    private func norm(_ a: [Float], _ b: [Float]) -> Double {
        zip(a, b).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot()
    }

    func testEveryClippedPerExampleGradientHasNormAtMostC() throws {
        for type in [Config.ModelType.bag, .lstm] {
            let clip = 0.05
            var r = try rig(privateConfig(type: type, clip: clip), data: KeywordData.make(count: 40, seed: 5), sigma: 0)
            for e in 0..<12 {
                let before = r.weights
                _ = try r.step.step(on: [e], divisor: 1, state: &r.state)   // SGD, lr 1: Δθ = −clipped g
                let moved = norm(before, r.weights)
                XCTAssertLessThanOrEqual(moved, clip + 1e-6, "\(type) example \(e)")
                XCTAssertGreaterThan(moved, 0.5 * clip, "\(type) example \(e): a large gradient is clipped to C, not dropped")
            }
        }
    }

    func testOneHugeGradientMovesTheUpdateByAtMostTwoC() throws {
        // One "food" example in the batch; class weight 10⁶ scales its gradient by 10⁶.
        let data = KeywordData.make(count: 60, seed: 9)
        let food = (0..<data.count).filter { data.labels[$0] == "food" }
        let others = (0..<data.count).filter { data.labels[$0] != "food" }
        let batch = [food[0]] + Array(others.prefix(15))
        var results = [[Float]]()
        for weight in [1.0, 1e6] {
            var c = privateConfig(sigma: 0.5, clip: 0.1)
            c.training.classWeights = .explicit(["food": weight])
            var r = try rig(c, data: data, sigma: 0.5)
            let before = r.weights
            _ = try r.step.step(on: batch, divisor: 16, state: &r.state)
            results.append(zip(r.weights, before).map { $0 - $1 })
        }
        // Same seed, same noise: the two updates differ by the one clipped gradient's change.
        XCTAssertLessThanOrEqual(norm(results[0], results[1]), 2 * 0.1 / 16 + 1e-6)
        XCTAssertGreaterThan(norm(results[0], [Float](repeating: 0, count: results[0].count)), 0)
    }

    func testNoiseStandardDeviationIsSigmaCOverB() throws {
        let (sigma, clip, b) = (2.0, 0.5, 16.0)
        var r = try rig(privateConfig(sigma: sigma, clip: clip), data: KeywordData.make(count: 40, seed: 5), sigma: sigma)
        let before = r.weights
        _ = try r.step.step(on: [], divisor: b, state: &r.state)   // no example: the update is noise alone
        let delta = zip(r.weights, before).map { Double($0 - $1) }
        let mean = delta.reduce(0, +) / Double(delta.count)
        let std = (delta.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(delta.count)).squareRoot()
        XCTAssertGreaterThan(delta.count, 30_000)
        XCTAssertEqual(std, sigma * clip / b, accuracy: 0.02 * sigma * clip / b)
        // Dense: every embedding row moved, not only rows of texts.
        let table = r.network.embeddingTensor
        XCTAssertTrue((table.offset..<(table.offset + table.count)).allSatisfy { delta[$0] != 0 })
    }

    func testWithoutNoiseOrClippingTheStepIsTheOrdinaryStep() throws {
        let data = KeywordData.make(count: 48, seed: 2)
        let c = privateConfig(type: .lstm, sigma: 0, clip: 1e6, sampling: .shuffle)
        var r = try rig(c, data: data, sigma: 0)
        let start = r.weights
        let batch = Array(Int32(0)..<16)
        _ = try r.step.step(on: batch.map(Int.init), divisor: 16, state: &r.state)
        let dp = r.weights

        var plain = c
        plain.training.privacy = nil
        let workspaces = (0..<2).map { _ in r.network.makeWorkspace() }
        for ws in workspaces { try ws.prepare(for: DataParallelStep.shardShape(batchSize: 16, threads: 2, longest: r.set.examples.longest)) }
        var ordinary = try DataParallelStep(config: plain, network: r.network, set: r.set, classWeights: [1, 1, 1], workspaces: workspaces)
        let parameters = try FloatBuffer.allocate(count: start.count, what: "weights")
        for i in start.indices { parameters.pointer[i] = start[i] }
        var state = TrainingState(parameters: parameters, optimizer: try makeOptimizer(plain.training, count: start.count),
                                  rng: SeededGenerator(seed: 1), totalSteps: 100,
                                  schedule: LearningRateSchedule(config: plain.training, totalSteps: 100, stepsPerEpoch: 10))
        _ = try ordinary.run(batch[...], epoch: 1, state: &state) { _, _ in false }
        let reference = array(parameters.pointer, start.count)
        XCTAssertGreaterThan(norm(reference, start), 1e-4)
        XCTAssertLessThan(norm(dp, reference), 1e-5 * max(1, norm(reference, start)) + 1e-6)
    }

    func testSeededNoiseReplaysAndSecureNoiseDoesNot() throws {
        func train(secure: Bool) throws -> [Float] {
            var c = privateConfig(sigma: 1, clip: 1)
            c.training.privacy?.secureRNG = secure
            let m = Model(config: c)
            try m.train(KeywordData.make(count: 64, seed: 8))
            return try m.predictProbabilities(["pizza and soup", "the team scored"])
        }
        XCTAssertEqual(try train(secure: false), try train(secure: false))
        XCTAssertNotEqual(try train(secure: true), try train(secure: true))
    }

    // MARK: config and the whole run

    func testPrivacyRefusesVocabularyAndLabelsFromThePrivateData() throws {
        let base = #"{"model": {"type": "bag", "labels": ["a", "b"]}, "tokenizer": {"vocabulary": "hashed"}, "training": {"privacy": {"noise_multiplier": 1}}}"#
        XCTAssertNoThrow(try Config(json: base))
        assertThrowsTextModelError(.config, mentioning: ["tokenizer.vocabulary"]) {
            try Config(json: #"{"model": {"labels": ["a", "b"]}, "training": {"privacy": {"noise_multiplier": 1}}}"#)
        }
        assertThrowsTextModelError(.config, mentioning: ["model.labels"]) {
            try Config(json: #"{"tokenizer": {"vocabulary": "hashed"}, "training": {"privacy": {"noise_multiplier": 1}}}"#)
        }
        assertThrowsTextModelError(.config, mentioning: ["noise_multiplier", "target_epsilon"]) {
            try Config(json: #"{"model": {"labels": ["a", "b"]}, "tokenizer": {"vocabulary": "hashed"}, "training": {"privacy": {}}}"#)
        }
        assertThrowsTextModelError(.config, mentioning: ["not both"]) {
            try Config(json: #"{"model": {"labels": ["a", "b"]}, "tokenizer": {"vocabulary": "hashed"}, "training": {"privacy": {"noise_multiplier": 1, "target_epsilon": 3}}}"#)
        }
        assertThrowsTextModelError(.config, mentioning: ["training.privacy.sigma"]) {
            try Config(json: #"{"model": {"labels": ["a", "b"]}, "tokenizer": {"vocabulary": "hashed"}, "training": {"privacy": {"sigma": 1}}}"#)
        }
        // Unused, the new keys stay out of the resolved config (model files unchanged).
        let plain = Config().json.serialized
        for key in ["privacy", "\"vocabulary\"", "\"labels\""] { XCTAssertFalse(plain.contains(key), key) }
        XCTAssertTrue(try Config(json: base).json.serialized.contains("\"privacy\":{\"max_grad_norm\":1"))
    }

    func testTargetEpsilonRunReportsEpsilonPerEpochAndSavesTheRecord() throws {
        var c = privateConfig(type: .bag)
        c.training.privacy?.noiseMultiplier = nil
        c.training.privacy?.targetEpsilon = 3
        c.training.epochs = 3
        let model = Model(config: c)
        var epochEpsilons = [Double]()
        let report = try model.train(KeywordData.make(count: 300, seed: 4)) { p in
            if p.kind == .epoch { epochEpsilons.append(p.epsilon) }
            return false
        }
        XCTAssertEqual(report.epochs.count, 3)
        let eps = report.epochs.compactMap(\.epsilon)
        XCTAssertEqual(eps, epochEpsilons)
        XCTAssertEqual(eps.count, 3)
        XCTAssertTrue(zip(eps, eps.dropFirst()).allSatisfy { $0 < $1 })
        let record = try XCTUnwrap(report.privacy)
        XCTAssertLessThanOrEqual(record.epsilon, 3)
        XCTAssertGreaterThanOrEqual(record.epsilon, 0.95 * 3)
        XCTAssertEqual(record.steps, 3 * DPSGDStep.stepsPerEpoch(examples: 300, batchSize: 16))
        XCTAssertEqual(record.delta, 1e-5)
        XCTAssertEqual(record.samplingRate, 16.0 / 300)
        let dir = ScratchDirectory()
        try model.save(to: dir.file("m.tm"))
        let loaded = try Model.load(from: dir.file("m.tm"))
        XCTAssertEqual(loaded.privacy, record)
        XCTAssertNil(try Model.load(bytes: trainedPlainModel().serialized()).privacy)
    }

    /// Product quantization alone is post-processing, so ε still holds and the record
    /// travels with the compressed model (also through its format-4 file); retraining
    /// its output layer on rows is not covered, so that model has no record.
    func testCompressionKeepsThePrivacyRecordUnlessItRetrains() throws {
        var c = privateConfig(type: .bag, sigma: 1)
        c.training.epochs = 1
        let data = KeywordData.make(count: 120, seed: 6)
        let model = Model(config: c)
        try model.train(data)
        let record = try XCTUnwrap(model.privacy)
        var options = QuantizeOptions()
        options.cutoff = 40
        let compressed = try model.quantized(options)
        XCTAssertEqual(compressed.privacy, record)
        XCTAssertEqual(try Model.load(bytes: compressed.serialized()).privacy, record)
        options.retrain = true
        XCTAssertNil(try model.quantized(options, training: data).privacy)
    }

    private func trainedPlainModel() throws -> Model {
        var c = Config(modelType: .bag)
        c.training.epochs = 1
        let m = Model(config: c)
        try m.train(KeywordData.make(count: 60, seed: 1))
        return m
    }

    func testEveryModelTypeAndTaskTrainsPrivately() throws {
        for type in [Config.ModelType.bag, .cnn, .lstm, .gru, .rnn, .transformer] {
            var c = privateConfig(type: type, sigma: 1, clip: 1)
            c.model.filters = 4
            c.model.kernelSizes = [2]
            c.model.heads = 2
            c.training.optimizer = .adam
            c.training.learningRate = 0.01
            let report = try Model(config: c).train(KeywordData.make(count: 64, seed: 8))
            XCTAssertNotNil(report.privacy, "\(type)")
            XCTAssertTrue(report.epochs[0].trainLoss.isFinite, "\(type)")
        }
        var multi = privateConfig(type: .bag, sigma: 1)
        multi.model.task = .multiLabel
        XCTAssertNotNil(try Model(config: multi).train(KeywordData.make(count: 64, seed: 8)).privacy)
        var regression = privateConfig(type: .bag, sigma: 1)
        regression.model.task = .regression
        regression.model.labels = nil
        var numbers = LabelledTexts()
        for i in 0..<64 { numbers.append(text: "n\(i % 7) word", label: String(i % 7)) }
        XCTAssertNotNil(try Model(config: regression).train(numbers).privacy)
    }
}

/// The public vocabularies (tokenizer.vocabulary) and the user's label set
/// (model.labels), which training.privacy requires but any model may use.
final class PublicVocabularyTests: XCTestCase {
    func testHashedVocabularyStoresNoWordsAndRoundTrips() throws {
        for type in [Config.ModelType.bag, .lstm] {
            var c = tinyConfig(epochs: 2)
            c.model.type = type
            c.tokenizer.vocabulary = .hashed
            c.tokenizer.buckets = 500
            if type == .bag { c.tokenizer.wordNgrams = 1 }
            let model = Model(config: c)
            let report = try model.train(KeywordData.make(count: 90, seed: 3))
            XCTAssertEqual(report.vocabularySize, 2, "\(type): only <pad> and <unk>")
            let bytes = try model.serialized()
            XCTAssertFalse(String(decoding: bytes, as: UTF8.self).contains("pizza"), "\(type): a training word is in the file")
            let loaded = try Model.load(bytes: bytes)
            let texts = ["pizza and soup", "the team scored a goal"]
            XCTAssertEqual(try loaded.predictProbabilities(texts), try model.predictProbabilities(texts))
        }
    }

    func testPretrainedVocabularyIsTheVectorFilesWords() throws {
        let dir = ScratchDirectory()
        let path = dir.file("v.vec")
        writeText(path, "3 4\npizza 1 0 0 0\ngoal 0 1 0 0\ncode 0 0 1 0\npizza 0 0 0 1\n")
        var c = tinyConfig(embedding: 4, epochs: 1)
        c.model.pretrainedVectors = path
        c.tokenizer.vocabulary = .pretrained
        let model = Model(config: c)
        let report = try model.train(KeywordData.make(count: 30, seed: 3))
        XCTAssertEqual(report.vocabularySize, 5)   // <pad>, <unk>, pizza, goal, code
        XCTAssertEqual(report.pretrainedFound, 3)
        assertThrowsTextModelError(.config, mentioning: ["model.pretrained_vectors"]) {
            try Config(json: #"{"tokenizer": {"vocabulary": "pretrained"}}"#)
        }
    }

    func testGivenLabelsKeepTheirOrderAndRefuseOthers() throws {
        var c = tinyConfig(epochs: 1)
        c.model.labels = ["tech", "food", "sport", "unused"]
        let model = Model(config: c)
        try model.train(KeywordData.make(count: 30, seed: 3))
        XCTAssertEqual(model.labels, ["tech", "food", "sport", "unused"])
        c.model.labels = ["tech", "food"]
        assertThrowsTextModelError(.data, mentioning: ["sport"]) {
            try Model(config: c).train(KeywordData.make(count: 30, seed: 3))
        }
        assertThrowsTextModelError(.config, mentioning: ["twice"]) {
            try Config(json: #"{"model": {"labels": ["a", "a"]}}"#)
        }
        assertThrowsTextModelError(.config, mentioning: ["regression"]) {
            try Config(json: #"{"model": {"task": "regression", "labels": ["a", "b"]}}"#)
        }
    }
}
