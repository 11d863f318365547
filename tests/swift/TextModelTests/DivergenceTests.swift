// Training that diverges is an error (TM_ERR_DIVERGED) naming the epoch, the step and
// the key to change, on every training step (data-parallel, Hogwild's fused bag SGD);
// the model stays as it was; and the default regression model trains.
import XCTest
@testable import TextModel

final class DivergenceTests: XCTestCase {
    /// Texts of 8 to 12 words from 200 made-up words, each with a fixed random weight;
    /// the target is the sum of the text's word weights. The lengths vary little on
    /// purpose: a bag model averages its words, so it sees the sum only up to the
    /// length (R² ≤ about 0.98 here; with 3 to 12 words the bound is about 0.82).
    static func wordWeightData(count: Int, seed: UInt64, lengths: ClosedRange<Int> = 8...12) -> LabelledTexts {
        var weightRNG = SeededGenerator(seed: 99)
        let weights = (0..<200).map { _ in Double(weightRNG.uniform(-1, 1)) * 2 }
        var rng = SeededGenerator(seed: seed)
        var data = LabelledTexts()
        for _ in 0..<count {
            let length = lengths.lowerBound + Int(rng.next() % UInt64(lengths.count))
            let ids = (0..<length).map { _ in Int(rng.next() % 200) }
            data.append(text: ids.map { "w\($0)" }.joined(separator: " "),
                        label: String(ids.reduce(0.0) { $0 + weights[$1] }))
        }
        return data
    }

    private func regressionConfig(_ json: String = "{}") throws -> Config {
        var config = try Config(json: json)
        config.model.task = .regression
        return config
    }

    func testTheDefaultRegressionModelLearnsASumOfWordWeights() throws {
        let config = try Config(json: #"{"model": {"task": "regression"}}"#)
        XCTAssertEqual(config.model.type, .bag)
        XCTAssertEqual(config.training.learningRate, 0.2, "docs/config.md, Tasks: the bag regressor's default rate")
        XCTAssertEqual(config.training.epochs, 10)
        let model = Model(config: config)
        try model.train(DivergenceTests.wordWeightData(count: 2000, seed: 1))
        guard case .regression(let m) = try model.evaluate(DivergenceTests.wordWeightData(count: 500, seed: 2)) else {
            return XCTFail("regression metrics")
        }
        XCTAssertGreaterThanOrEqual(m.r2, 0.9)
    }

    func testGivenKeysBeatTheTaskDefaults() throws {
        let config = try Config(json: #"{"model": {"task": "regression"}, "training": {"learning_rate": 0.7, "epochs": 3}}"#)
        XCTAssertEqual(config.training.learningRate, 0.7)
        XCTAssertEqual(config.training.epochs, 3)
        // Other types and tasks keep their defaults.
        XCTAssertEqual(try Config(json: #"{"model": {"task": "regression", "type": "lstm"}}"#).training.learningRate, 0.001)
        XCTAssertEqual(try Config(json: #"{"model": {"task": "multi_label"}}"#).training.learningRate, 1)
    }

    func testADivergingDataParallelRunIsAnErrorAndTheModelStaysUntrained() throws {
        // The bag regressor at the classifier's rate: 0.3.0's default, which gave NaN.
        let model = Model(config: try regressionConfig(#"{"model": {"task": "regression"}, "training": {"learning_rate": 1}}"#))
        let error = assertThrowsTextModelError(.diverged, mentioning: ["training diverged", "training.learning_rate", "epoch 1", "step"]) {
            try model.train(DivergenceTests.wordWeightData(count: 2000, seed: 1))
        }
        XCTAssertTrue(error?.message.contains("NaN") == true || error?.message.contains("infinite") == true, error?.message ?? "")
        XCTAssertFalse(model.isTrained, "a diverged first training leaves the model untrained")
        assertThrowsTextModelError(.state) { _ = try model.predictValues(["w1 w2"]) }
    }

    func testADivergingRunKeepsThePreviousWeights() throws {
        // One config (rate 0.7) that trains on texts of 20 to 40 words and diverges on
        // one-word texts, whose mean is a single row: the largest steps.
        let model = Model(config: try regressionConfig(#"{"model": {"task": "regression"}, "training": {"learning_rate": 0.7, "threads": 1}}"#))
        try model.train(DivergenceTests.wordWeightData(count: 300, seed: 1, lengths: 20...40))
        let before = try model.predictValues(["w1 w2 w3", "w4"])
        XCTAssertTrue(before.allSatisfy(\.isFinite))
        assertThrowsTextModelError(.diverged, mentioning: ["training.learning_rate (now 0.7"]) {
            try model.train(DivergenceTests.wordWeightData(count: 3000, seed: 2, lengths: 1...1))
        }
        XCTAssertEqual(try model.predictValues(["w1 w2 w3", "w4"]), before, "the model keeps the weights of its last training")
    }

    func testADivergingHogwildRunIsAnError() throws {
        // Hogwild's fused per-example SGD at an absurd rate: the weights overflow (one
        // thread: the ThreadSanitizer runs skip only HogwildRaceTests' racing ones).
        let config = try Config(json: #"{"model": {"type": "bag"}, "training": {"hogwild": true, "threads": 1, "learning_rate": 100, "lr_schedule": "constant"}}"#)
        let model = Model(config: config)
        let error = assertThrowsTextModelError(.diverged, mentioning: ["training.learning_rate (now 100", "epoch 1"]) {
            try model.train(KeywordData.make(count: 400, seed: 1))
        }
        // Hogwild cannot clip, so the message does not suggest it.
        XCTAssertFalse(error?.message.contains("clip_norm") ?? true)
        XCTAssertFalse(model.isTrained)
    }

    func testAClippedRunChecksTheGradientNorm() throws {
        // With clip_norm the norm is computed anyway; its sum of squares overflows
        // before the loss does, so the run stops at that step.
        let model = Model(config: try regressionConfig(#"{"model": {"task": "regression"}, "training": {"learning_rate": 100, "clip_norm": 1e6, "threads": 1}}"#))
        assertThrowsTextModelError(.diverged, mentioning: ["gradient's norm became infinite", "epoch 1, step"]) {
            try model.train(DivergenceTests.wordWeightData(count: 500, seed: 1, lengths: 1...1))
        }
        XCTAssertFalse(model.isTrained)
    }

    func testFirstNonFiniteFindsTheFirstBadValue() {
        var values = [Float](repeating: 1.5, count: 10_000)
        values.withUnsafeBufferPointer { XCTAssertNil(Divergence.firstNonFinite($0.baseAddress!, count: $0.count)) }
        values[7777] = .infinity
        values[9000] = .nan
        values.withUnsafeBufferPointer { XCTAssertEqual(Divergence.firstNonFinite($0.baseAddress!, count: $0.count), 7777) }
        values[5] = -.infinity
        values.withUnsafeBufferPointer { XCTAssertEqual(Divergence.firstNonFinite($0.baseAddress!, count: $0.count), 5) }
        values.withUnsafeBufferPointer { XCTAssertNil(Divergence.firstNonFinite($0.baseAddress!, count: 5)) }
    }
}
