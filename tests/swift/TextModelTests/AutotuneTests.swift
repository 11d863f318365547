// Autotune: the options' checks, a seeded search's reproducibility, the best config
// retraining to its score, and the model-size limit (estimate, shrinking, the exact
// size of the returned model).
#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import TextModel

final class AutotuneTests: XCTestCase {
    private let train = KeywordData.make(count: 300, seed: 11)
    private let valid = KeywordData.make(count: 120, seed: 12)

    /// Options for a quick search: few trials, few epochs, one thread.
    private func options(_ extra: String = "", trials: Int = 4, epochs: Int = 2) throws -> AutotuneOptions {
        let config = "\"config\": {\"training\": {\"epochs\": \(epochs)}}"
        return try AutotuneOptions(json: "{\"max_trials\": \(trials), \"time_budget\": 100000, \"threads\": 1, \(config)\(extra.isEmpty ? "" : ", " + extra)}")
    }

    private func rows(_ result: AutotuneResult) -> [String] {
        result.trials.map { t in
            "\(t.status.rawValue) \(t.config.serialized) \(t.metric.map { String($0) } ?? "-") \(t.size.map(String.init) ?? "-")"
        }
    }

    // MARK: options

    func testOptionsAreCheckedStrictly() {
        assertThrowsTextModelError(.config, mentioning: ["time_budgt", "not a known autotune option"]) {
            try AutotuneOptions(json: "{\"time_budgt\": 10}")
        }
        assertThrowsTextModelError(.config, mentioning: ["time_budget"]) { try AutotuneOptions(json: "{\"time_budget\": 0}") }
        assertThrowsTextModelError(.config, mentioning: ["time_budget"]) { try AutotuneOptions(json: "{\"time_budget\": -5}") }
        assertThrowsTextModelError(.config, mentioning: ["max_trials"]) { try AutotuneOptions(json: "{\"max_trials\": 0}") }
        assertThrowsTextModelError(.config, mentioning: ["max_model_mb"]) { try AutotuneOptions(json: "{\"max_model_mb\": 0}") }
        assertThrowsTextModelError(.config, mentioning: ["max_model_mb"]) { try AutotuneOptions(json: "{\"max_model_mb\": \"1\"}") }
        assertThrowsTextModelError(.config, mentioning: ["metric", "precision"]) { try AutotuneOptions(json: "{\"metric\": \"precision\"}") }
        assertThrowsTextModelError(.config, mentioning: ["rmse", "regression error"]) {
            try AutotuneOptions(json: "{\"metric\": \"rmse\", \"task\": \"single_label\"}")
        }
        assertThrowsTextModelError(.config, mentioning: ["accuracy", "needs a classifier"]) {
            try AutotuneOptions(json: "{\"metric\": \"accuracy\", \"task\": \"regression\"}")
        }
        assertThrowsTextModelError(.config, mentioning: ["model_types", "\"svm\""]) { try AutotuneOptions(json: "{\"model_types\": [\"svm\"]}") }
        assertThrowsTextModelError(.config, mentioning: ["config", "model.hiden_dim"]) {
            try AutotuneOptions(json: "{\"config\": {\"model\": {\"hiden_dim\": 3}}}")
        }
        assertThrowsTextModelError(.config, mentioning: ["not valid JSON"]) { try AutotuneOptions(json: "{\"seed\": 1,}") }
        assertThrowsTextModelError(.config, mentioning: ["JSON object"]) { try AutotuneOptions(json: "[1]") }
        assertThrowsTextModelError(.config) { try AutotuneOptions(json: "   ") }
    }

    func testOptionsSetInSwiftAreCheckedToo() throws {
        var opts = try options()
        opts.modelTypes = []
        assertThrowsTextModelError(.config, mentioning: ["model_types"]) { try Autotune(options: opts).run(train, validation: valid) }
        opts = try options()
        opts.timeBudgetSeconds = .nan
        assertThrowsTextModelError(.config, mentioning: ["time_budget"]) { try Autotune(options: opts).run(train, validation: valid) }
        opts = try options()
        opts.maxTrials = 0
        assertThrowsTextModelError(.config, mentioning: ["max_trials"]) { try Autotune(options: opts).run(train, validation: valid) }
        opts = try options()
        opts.metric = .rmse
        assertThrowsTextModelError(.config, mentioning: ["rmse"]) { try Autotune(options: opts).run(train, validation: valid) }
    }

    func testOptionDefaultsAndTaskFromMetric() throws {
        let defaults = try AutotuneOptions(json: nil)
        XCTAssertEqual(defaults.metric, .accuracy)
        XCTAssertEqual(defaults.timeBudgetSeconds, 300)
        XCTAssertNil(defaults.maxTrials)
        XCTAssertNil(defaults.maxModelMB)
        let regression = try AutotuneOptions(json: "{\"metric\": \"mae\"}")
        XCTAssertEqual(regression.task, .regression)
        XCTAssertFalse(regression.metric.greaterIsBetter)
        XCTAssertEqual(try AutotuneOptions(json: "{\"metric\": \"f1:sport\"}").metric, .labelF1("sport"))
    }

    func testSearchNeedsValidationDataAndKnownLabels() throws {
        let search = Autotune(options: try options())
        assertThrowsTextModelError(.invalidArgument, mentioning: ["validation"]) { try search.run(train, validation: LabelledTexts()) }
        let f1 = Autotune(options: try options("\"metric\": \"f1:music\""))
        assertThrowsTextModelError(.config, mentioning: ["f1:music", "\"sport\""]) { try f1.run(train, validation: valid) }
    }

    // MARK: reproducibility

    func testSeededSearchRunsTheSameTrialsInTheSameOrder() throws {
        let opts = try options("\"seed\": 5, \"model_types\": [\"bag\", \"cnn\"]", trials: 5)
        let first = try Autotune(options: opts).run(train, validation: valid)
        let second = try Autotune(options: opts).run(train, validation: valid)
        XCTAssertEqual(first.trials.count, 5)
        XCTAssertEqual(rows(first), rows(second))
        XCTAssertEqual(first.bestTrial, second.bestTrial)
        XCTAssertEqual(first.stoppedBy, "max_trials")
        // Trial 0 is the default model; the draws differ from one another and by seed.
        XCTAssertEqual(first.trials[0].config["model"]?["type"]?.stringValue, nil)
        XCTAssertEqual(Set(first.trials.map { $0.config.serialized }).count, 5)
        let other = try Autotune(options: try options("\"seed\": 6, \"model_types\": [\"bag\", \"cnn\"]", trials: 5)).run(train, validation: valid)
        XCTAssertNotEqual(rows(first).dropFirst().map { $0 }, rows(other).dropFirst().map { $0 })
    }

    func testBagTrialsOnSeveralThreadsAreDeterministic() throws {
        // Hogwild, the bag's default, depends on thread timing on more than one thread:
        // the search trains it on one, so two runs of a two-thread search agree exactly.
        let json = "{\"max_trials\": 4, \"time_budget\": 100000, \"threads\": 2, \"seed\": 3, \"model_types\": [\"bag\"], \"config\": {\"training\": {\"epochs\": 3}}}"
        let opts = try AutotuneOptions(json: json)
        let first = try Autotune(options: opts).run(train, validation: valid)
        let second = try Autotune(options: opts).run(train, validation: valid)
        XCTAssertEqual(rows(first), rows(second))
        for trial in first.trials {
            XCTAssertEqual(trial.config["training"]?["threads"]?.doubleValue, 1, trial.config.serialized)
            XCTAssertEqual(try Config(value: trial.config).training.hogwild, true, trial.config.serialized)
        }
        // A config option that names hogwild (or threads) is the caller's choice, kept.
        let named = try AutotuneOptions(json: json.replacingOccurrences(of: "{\"epochs\": 3}", with: "{\"epochs\": 3, \"hogwild\": true}"))
        let kept = try Autotune(options: named).run(train, validation: valid)
        XCTAssertEqual(kept.trials[0].config["training"]?["threads"]?.doubleValue, 2)
    }

    func testBestConfigRetrainsToTheSameScore() throws {
        for types in ["[\"bag\"]", "[\"cnn\"]"] {
            // Two threads: the neural models' data-parallel step is deterministic for a
            // seed and thread count, which every trial's config states.
            let opts = try AutotuneOptions(json: "{\"max_trials\": 2, \"time_budget\": 100000, \"threads\": 2, \"seed\": 2, \"model_types\": \(types), \"config\": {\"training\": {\"epochs\": 2}}}")
            let result = try Autotune(options: opts).run(train, validation: valid)
            let best = result.best
            // Bag trials train Hogwild on one thread (testBagTrialsOnSeveralThreadsAreDeterministic).
            XCTAssertEqual(best.config["training"]?["threads"]?.doubleValue, types == "[\"bag\"]" ? 1 : 2)
            let retrained = Model(config: try Config(value: best.config))
            try retrained.train(train, validation: valid)
            XCTAssertEqual(try opts.metric.value(of: retrained.evaluate(valid)), best.metric, "model types \(types)")
            XCTAssertEqual(try retrained.serializedSize(), best.size)
            XCTAssertEqual(try opts.metric.value(of: result.model.evaluate(valid)), best.metric)
        }
    }

    // MARK: model size

    func testEstimateIsCloseAboveTheRealSize() throws {
        let estimate = ModelSizeEstimate(texts: train.texts, classes: 3)
        let configs = [
            "{}",
            "{\"model\": {\"type\": \"bag\", \"embedding_dim\": 16}, \"tokenizer\": {\"buckets\": 5000}}",
            "{\"model\": {\"type\": \"cnn\", \"embedding_dim\": 20, \"filters\": 8}, \"tokenizer\": {\"min_freq\": 2}}",
            "{\"model\": {\"type\": \"gru\", \"embedding_dim\": 12, \"hidden_dim\": 8, \"bidirectional\": true}}",
        ]
        for text in configs {
            var config = try Config(json: text)
            config.training.epochs = 1
            config.training.threads = 1
            let model = Model(config: config)
            try model.train(train)
            let real = try model.serializedSize()
            let guess = estimate.bytes(config)
            XCTAssertGreaterThanOrEqual(guess, real, text)
            XCTAssertLessThan(guess - real, ModelSizeEstimate.headerSlack + 4096, text)
        }
    }

    func testSizeLimitIsNeverExceeded() throws {
        // 0.3 MB: the default bag (200,000 buckets × 100 dims, 80 MB) and most draws
        // only fit once shrunk.
        let opts = try options("\"max_model_mb\": 0.3, \"seed\": 4, \"model_types\": [\"bag\", \"cnn\"]", trials: 5)
        let result = try Autotune(options: opts).run(train, validation: valid)
        let limit = 300_000
        for trial in result.trials {
            if trial.status == .ok { XCTAssertLessThanOrEqual(trial.size ?? .max, limit, trial.config.serialized) }
        }
        XCTAssertTrue(result.trials[0].message?.contains("shrunk") ?? false, "\(result.trials[0].message ?? "-")")
        let size = try result.model.serializedSize()
        XCTAssertLessThanOrEqual(size, limit)
        let dir = ScratchDirectory()
        let path = dir.file("best.tmmodel")
        try result.model.save(to: path)
        XCTAssertEqual(readBytes(path).count, size)
    }

    func testModelsOverTheLimitAfterTrainingAreDiscarded() throws {
        // An estimate made to fall 50 KB short lets configs through that the check of the
        // real file size must then discard; when every one is over, the search is an
        // error, never a model above the limit.
        let opts = try options("\"max_model_mb\": 0.3, \"seed\": 4, \"model_types\": [\"bag\"]", trials: 4)
        var search = Autotune(options: opts)
        search.estimateSlack = -50_000
        var seen = [AutotuneTrial]()
        let result = Result { try search.run(train, validation: valid) { seen.append($0); return false } }
        let discarded = seen.filter { $0.status == .overSize }
        XCTAssertFalse(discarded.isEmpty, "\(seen.map { $0.json.serialized })")
        for trial in discarded {
            XCTAssertGreaterThan(trial.size ?? 0, 300_000)
            XCTAssertTrue(trial.message?.contains("over max_model_mb") ?? false)
        }
        for trial in seen where trial.status == .ok { XCTAssertLessThanOrEqual(trial.size ?? .max, 300_000) }
        switch result {
        case .success(let r): XCTAssertLessThanOrEqual(try r.model.serializedSize(), 300_000)
        case .failure(let error):
            XCTAssertFalse(seen.contains { $0.status == .ok })
            XCTAssertTrue("\(error)".contains("over max_model_mb"), "\(error)")
        }
    }

    func testALimitNoConfigCanMeetIsAClearError() throws {
        let search = Autotune(options: try options("\"max_model_mb\": 0.001"))
        assertThrowsTextModelError(.resource, mentioning: ["max_model_mb", "cannot be met", "bytes"]) {
            try search.run(train, validation: valid)
        }
    }

    // MARK: budgets and tasks

    func testTimeBudgetEndsTheSearch() throws {
        // A budget far below one trial: trial 0 is cut (or never starts), so nothing
        // finishes: an error, never an unfinished model.
        let opts = try AutotuneOptions(json: "{\"time_budget\": 0.000001, \"threads\": 1}")
        assertThrowsTextModelError(.resource, mentioning: ["time"]) { try Autotune(options: opts).run(train, validation: valid) }
    }

    func testTrialTimeEstimateScalesWithTheWorkOfItsType() throws {
        var times = TrialTimeEstimate()
        var bag = Config(modelType: .bag)
        bag.training.epochs = 5
        XCTAssertNil(times.seconds(bag, tokens: 1000), "no estimate before a trial of the type")
        times.record(bag, epochs: 5, tokens: 1000, seconds: 10)
        bag.training.epochs = 10
        XCTAssertEqual(times.seconds(bag, tokens: 1000) ?? 0, 20, accuracy: 1e-9)
        bag.model.embeddingDim *= 2
        XCTAssertEqual(times.seconds(bag, tokens: 2000) ?? 0, 80, accuracy: 1e-9)
        XCTAssertNil(times.seconds(Config(modelType: .cnn), tokens: 1000))
    }

    func testCallbackStopsTheSearch() throws {
        var seen = 0
        let result = try Autotune(options: try options(trials: 10)).run(train, validation: valid) { _ in
            seen += 1
            return seen == 2
        }
        XCTAssertEqual(result.trials.count, 2)
        XCTAssertEqual(result.stoppedBy, "callback")
    }

    func testRegressionSearch() throws {
        var data = LabelledTexts(), validation = LabelledTexts()
        for (i, text) in (train.texts + valid.texts).enumerated() {
            let value = Double(text.split(separator: " ").count) + (text.lowercased().contains("pizza") ? 5 : 0)
            if i < train.count { data.append(text: text, label: String(value)) } else { validation.append(text: text, label: String(value)) }
        }
        let opts = try options("\"metric\": \"rmse\", \"model_types\": [\"bag\", \"cnn\"]", trials: 3, epochs: 3)
        let result = try Autotune(options: opts).run(data, validation: validation)
        XCTAssertEqual(result.model.task, .regression)
        let finite = result.trials.compactMap(\.metric)
        XCTAssertFalse(finite.isEmpty)
        XCTAssertEqual(result.best.metric, finite.min())
    }
}
