import XCTest
@testable import TextModel

/// tokenizer.fit_buckets (BucketSizing) and the bag model's Hogwild default: the fitted
/// count, that folding ids equals encoding with the fitted count, that training records
/// it and makes a smaller file whose predictions survive a reload, and that the default
/// config trains on its configured threads.
final class BucketSizingTests: XCTestCase {
    func testFittedCountIsTheSmallestDivisorAboveFourTimesTheBucketsUsed() {
        XCTAssertEqual(BucketSizing.fitted(configured: 200_000, used: 12_000), 50_000)   // ≥ 48,000
        XCTAssertEqual(BucketSizing.fitted(configured: 200_000, used: 10_000), 40_000)
        XCTAssertEqual(BucketSizing.fitted(configured: 200_000, used: 0), 1_250)         // ≥ minimumBuckets
        XCTAssertEqual(BucketSizing.fitted(configured: 200_000, used: 50_000), 200_000)  // nothing smaller fits
        XCTAssertEqual(BucketSizing.fitted(configured: 200_003, used: 10), 200_003)      // a prime has no divisor
        XCTAssertEqual(BucketSizing.fitted(configured: 64, used: 3), 64)
        for (b, u) in [(200_000, 777), (100_000, 3_001), (65_536, 5_000), (999_999, 1_234)] {
            let f = BucketSizing.fitted(configured: b, used: u)
            XCTAssertEqual(b % f, 0, "\(f) divides \(b)")
            XCTAssertGreaterThanOrEqual(f, min(b, max(BucketSizing.minimumBuckets, 4 * u)))
        }
    }

    func testFoldingEncodedIDsEqualsEncodingWithTheFittedCount() {
        var config = Config()
        config.tokenizer.buckets = 200_000
        let texts = KeywordData.make(count: 200, seed: 3).texts + ["unseen wordz here", "", "émoji 🎉 ünïcode"]
        let tokenizer = Tokenizer(config.tokenizer)
        let vocabulary = Vocabulary.build(from: texts.map(tokenizer.tokenize), minFreq: 1, maxSize: 1000)
        let wide = FeatureEncoder(config: config.tokenizer, vocabulary: vocabulary)
        var encoded = wide.encode(texts, threads: 1)
        let used = encoded.withUnsafeStorage { ids, _ in
            BucketSizing.distinctBuckets(ids, base: vocabulary.count, buckets: 200_000)
        }
        XCTAssertGreaterThan(used, 100)
        let fitted = BucketSizing.fitted(configured: 200_000, used: used)
        XCTAssertLessThan(fitted, 200_000)
        encoded.withMutableIDs { BucketSizing.fold($0, base: vocabulary.count, into: fitted) }
        var narrow = config.tokenizer
        narrow.buckets = fitted
        let direct = FeatureEncoder(config: narrow, vocabulary: vocabulary).encode(texts, threads: 1)
        XCTAssertEqual(encoded, direct)
    }

    private func defaultConfig(_ extra: String = "") throws -> Config {
        try Config(json: #"{"training": {"epochs": 2\#(extra)}}"#)
    }

    func testTrainingRecordsTheFittedCountAndTheSmallerFileReloadsTheSamePredictions() throws {
        let data = KeywordData.make(count: 300, seed: 5)
        let fitted = Model(config: try defaultConfig(#", "threads": 1"#))
        try fitted.train(data)
        XCTAssertEqual(fitted.config.tokenizer.buckets, 200_000, "the config training starts from is kept")
        let buckets = fitted.trainedConfig.tokenizer.buckets
        XCTAssertLessThan(buckets, 200_000)
        XCTAssertEqual(200_000 % buckets, 0)

        var asGiven = try defaultConfig(#", "threads": 1"#)
        asGiven.tokenizer.fitBuckets = false
        let full = Model(config: asGiven)
        try full.train(data)
        XCTAssertEqual(full.trainedConfig.tokenizer.buckets, 200_000)
        XCTAssertLessThan(try fitted.serializedSize() * 2, try full.serializedSize())

        let reloaded = try Model.load(bytes: try fitted.serialized())
        XCTAssertEqual(reloaded.trainedConfig.tokenizer.buckets, buckets)
        let probe = KeywordData.make(count: 40, seed: 9).texts + ["never seen words entirely"]
        XCTAssertEqual(try reloaded.predictProbabilities(probe), try fitted.predictProbabilities(probe))
    }

    func testTheDefaultModelTrainsWithHogwildOnItsConfiguredThreads() throws {
        let data = KeywordData.make(count: 300, seed: 6)
        for threads in [1, 2] {
            let model = Model(config: try defaultConfig(#", "threads": \#(threads)"#))
            XCTAssertTrue(model.config.training.hogwild)
            let report = try model.train(data)
            XCTAssertEqual(report.threads, threads, "Hogwild takes every configured thread")
            XCTAssertGreaterThan(report.epochs.last?.trainAccuracy ?? 0, 0.8)
        }
        // threads 0 = every core, as the data-parallel step counts them.
        let all = try Model(config: defaultConfig(#", "threads": 0"#)).train(data)
        XCTAssertEqual(all.threads, Parallel.threads(0))
    }

    func testABagConfigHogwildCannotRunFallsBackUnlessHogwildIsNamed() throws {
        let batched = try Config(json: #"{"training": {"batch_size": 8, "threads": 2}}"#)
        XCTAssertFalse(batched.training.hogwild, "resolved config says what training does")
        let report = try Model(config: batched).train(KeywordData.make(count: 100, seed: 2))
        XCTAssertEqual(report.threads, 2, "data-parallel batches of 8 split over 2 threads")
        assertThrowsTextModelError(.config, mentioning: ["training.hogwild", "batch_size 1"]) {
            try Config(json: #"{"training": {"batch_size": 8, "hogwild": true}}"#)
        }
        XCTAssertFalse(try Config(json: #"{"model": {"type": "bag", "task": "regression"}}"#).training.hogwild)
        XCTAssertFalse(try Config(json: #"{"model": {"type": "lstm"}}"#).training.hogwild)
        XCTAssertTrue(try Config(json: #"{"training": {"hogwild": null}}"#).training.hogwild)
    }
}
