import XCTest
@testable import TextModel

/// training.sparse_updates: Adam (and momentum SGD) update only the embedding rows a step
/// used, and everything outside the table, as PyTorch's SparseAdam does; plain SGD is the
/// same model either way; the config refuses it with DP-SGD.
final class SparseUpdatesTests: XCTestCase {
    /// Two data-parallel steps (2 workers) from the same seeded weights, with and without
    /// sparse updates: the weights after each step, and the embedding rows each step used.
    private struct TwoSteps {
        var afterFirst: [Float] = []
        var afterSecond: [Float] = []
        var usedBySecond = Set<Int>()
    }

    private func twoSteps(_ config: Config, data: LabelledTexts) throws -> (TwoSteps, Network) {
        let set = try TrainingSet(config: config, data: data, validation: nil)
        let network = NetworkBuilder.make(config: config, vocabularySize: set.vocabulary.count, classes: set.width)
        let batch = config.training.batchSize
        let workspaces = (0..<2).map { _ in network.makeWorkspace() }
        for ws in workspaces {
            try ws.prepare(for: DataParallelStep.shardShape(batchSize: batch, threads: 2, longest: set.examples.longest))
        }
        var step = try DataParallelStep(config: config, network: network, set: set, classWeights: [1, 1, 1], workspaces: workspaces)
        let count = network.layout.count
        let parameters = try FloatBuffer.allocate(count: count, what: "weights")
        var rng = SeededGenerator(seed: 3)
        network.initialize(parameters.pointer, rng: &rng)
        var state = TrainingState(parameters: parameters, optimizer: try makeOptimizer(config.training, count: count),
                                  rng: rng, totalSteps: 100,
                                  schedule: LearningRateSchedule(config: config.training, totalSteps: 100, stepsPerEpoch: 10))
        var result = TwoSteps()
        _ = try step.run(Array(Int32(0)..<Int32(batch))[...], epoch: 1, state: &state) { _, _ in false }
        result.afterFirst = array(parameters.pointer, count)
        _ = try step.run(Array(Int32(batch)..<Int32(2 * batch))[...], epoch: 1, state: &state) { _, _ in false }
        result.afterSecond = array(parameters.pointer, count)
        for ws in workspaces { result.usedBySecond.formUnion(ws.batch.tokens.map { Int($0) }) }
        return (result, network)
    }

    /// The embedding rows whose values differ between `a` and `b`.
    private func changedRows(_ a: [Float], _ b: [Float], table: ParameterLayout.Tensor, width: Int) -> Set<Int> {
        Set((0..<(table.count / width)).filter { row in
            let base = table.offset + row * width
            return (base..<(base + width)).contains { a[$0] != b[$0] }
        })
    }

    private func config(_ optimizer: Config.OptimizerType, sparse: Bool) -> Config {
        var c = Config(modelType: .lstm)
        c.tokenizer.minFreq = 1
        c.model.embeddingDim = 8
        c.model.hiddenDim = 8
        c.training.optimizer = optimizer
        c.training.learningRate = 0.01
        c.training.momentum = optimizer == .sgd ? 0.9 : 0
        c.training.batchSize = 8
        c.training.sparseUpdates = sparse
        return c
    }

    func testAdamAndMomentumMoveOnlyTheRowsTheStepUsed() throws {
        let data = KeywordData.make(count: 32, seed: 4)
        for optimizer in [Config.OptimizerType.adam, .adamw, .sgd] {
            let (dense, network) = try twoSteps(config(optimizer, sparse: false), data: data)
            let (sparse, _) = try twoSteps(config(optimizer, sparse: true), data: data)
            let table = network.embeddingTensor, width = table.shape[1]
            // The first step: no row has a history yet, so only used rows move either way.
            XCTAssertEqual(sparse.afterFirst, dense.afterFirst, "\(optimizer)")
            let usedByFirst = changedRows(dense.afterFirst, try initial(network), table: table, width: width)
            XCTAssertFalse(usedByFirst.isEmpty)
            // The second: dense moves the first step's rows again (their moments), sparse
            // only the rows the second step's texts hold.
            let sparseMoved = changedRows(sparse.afterFirst, sparse.afterSecond, table: table, width: width)
            let denseMoved = changedRows(dense.afterFirst, dense.afterSecond, table: table, width: width)
            XCTAssertEqual(sparseMoved, sparse.usedBySecond, "\(optimizer): sparse updates move exactly the step's rows")
            XCTAssertEqual(denseMoved, sparseMoved.union(usedByFirst), "\(optimizer)")
            XCTAssertFalse(usedByFirst.subtracting(sparse.usedBySecond).isEmpty, "\(optimizer): the test needs rows only the first step used")
            // Outside the table both updated every weight the same way.
            let outside = Array(0..<table.offset) + Array((table.offset + table.count)..<dense.afterSecond.count)
            XCTAssertEqual(outside.map { sparse.afterSecond[$0] }, outside.map { dense.afterSecond[$0] }, "\(optimizer)")
        }
    }

    /// The seeded initial weights twoSteps starts from.
    private func initial(_ network: Network) throws -> [Float] {
        let parameters = try FloatBuffer.allocate(count: network.layout.count, what: "weights")
        var rng = SeededGenerator(seed: 3)
        network.initialize(parameters.pointer, rng: &rng)
        return array(parameters.pointer, network.layout.count)
    }

    func testPlainSGDTrainsTheSameModelEitherWay() throws {
        let data = KeywordData.make(count: 48, seed: 6)
        var c = config(.sgd, sparse: false)
        c.training.momentum = 0
        c.training.threads = 2
        c.training.epochs = 2
        func probabilities(_ c: Config) throws -> [Float] {
            let m = Model(config: c)
            try m.train(data)
            return try m.predictProbabilities(["pizza and soup", "the team scored"])
        }
        var sparse = c
        sparse.training.sparseUpdates = true
        XCTAssertEqual(try probabilities(sparse), try probabilities(c))
    }

    func testAdamWithSparseUpdatesLearnsAndTheConfigRecordsIt() throws {
        var c = config(.adam, sparse: true)
        c.training.learningRate = 0.05
        c.training.epochs = 10
        c.training.threads = 2
        let m = Model(config: c)
        try m.train(KeywordData.make(count: 90, seed: 2))
        let metrics = try m.evaluate(KeywordData.make(count: 60, seed: 9))
        XCTAssertGreaterThan(metrics.accuracy ?? 0, 0.9)
        guard case .bool(true)? = m.trainedConfig.json["training"]?["sparse_updates"] else {
            return XCTFail("the trained model's config does not say \"sparse_updates\": true")
        }
        // Left out of the resolved config at its default, so older readers load the file.
        XCTAssertNil(try Config(json: "{}").json["training"]?["sparse_updates"])
    }

    func testTheConfigRefusesSparseUpdatesWithPrivacy() {
        assertThrowsTextModelError(.config, mentioning: ["training.sparse_updates", "training.privacy"]) {
            try Config(json: #"{"model": {"type": "lstm"}, "training": {"sparse_updates": true, "privacy": {"max_grad_norm": 1, "noise_multiplier": 1}}}"#)
        }
        assertThrowsTextModelError(.config, mentioning: ["sparse_updates"]) {
            try Config(json: #"{"training": {"sparse_updates": "yes"}}"#)
        }
    }
}
