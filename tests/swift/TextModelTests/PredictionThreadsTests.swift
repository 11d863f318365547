import XCTest
@testable import TextModel

/// Prediction and evaluation on several threads give exactly one thread's results, for
/// the bag model and a recurrent one, and a bad thread count is refused.
final class PredictionThreadsTests: XCTestCase {
    private func assertThreadCountsAgree(_ config: Config, file: StaticString = #filePath, line: UInt = #line) throws {
        let classifier = Model(config: config)
        try classifier.train(KeywordData.make(count: 150, seed: 3))
        // 900 texts: four inference groups of 256 and 14 encoding shares of 64.
        let data = KeywordData.make(count: 900, seed: 4)
        XCTAssertEqual(classifier.predictionThreads, 0, "the default is every core", file: file, line: line)
        try classifier.setPredictionThreads(1)
        let reference = try classifier.predictProbabilities(data.texts)
        let referenceMetrics = try classifier.evaluate(data)
        for threads in [2, 3, 4, 0] {
            try classifier.setPredictionThreads(threads)
            XCTAssertEqual(try classifier.predictProbabilities(data.texts), reference, "\(threads) threads", file: file, line: line)
            let metrics = try classifier.evaluate(data)
            XCTAssertEqual(metrics.accuracy, referenceMetrics.accuracy, file: file, line: line)
        }
    }

    func testBagPredictsTheSameOnAnyThreadCount() throws {
        var config = tinyConfig(embedding: 16, epochs: 2, batchSize: 1, learningRate: 0.2)
        config.model.type = .bag
        config.tokenizer.wordNgrams = 2
        config.tokenizer.buckets = 1000
        config.training.optimizer = .sgd
        try assertThreadCountsAgree(config)
    }

    func testLSTMPredictsTheSameOnAnyThreadCount() throws {
        try assertThreadCountsAgree(tinyConfig(epochs: 1))
    }

    func testThreadCountOutOfRangeIsRefused() throws {
        let classifier = Model(config: tinyConfig())
        try classifier.setPredictionThreads(Model.maxThreads)
        for bad in [-1, Model.maxThreads + 1, Int.max] {
            assertThrowsTextModelError(.invalidArgument, mentioning: ["threads"]) { try classifier.setPredictionThreads(bad) }
        }
        XCTAssertEqual(classifier.predictionThreads, Model.maxThreads, "a refused value leaves the setting")
    }

    func testEncodingOnThreadsKeepsTextOrder() {
        let config = tinyConfig()
        let texts = KeywordData.make(count: 500, seed: 5).texts
        let vocabulary = Vocabulary.build(from: texts.map(Tokenizer(config.tokenizer).tokenize), minFreq: 1, maxSize: 1000)
        let encoder = FeatureEncoder(config: config.tokenizer, vocabulary: vocabulary)
        let serial = EncodedTexts(texts.map(encoder.encode))
        for threads in [1, 2, 3, 7] {
            XCTAssertEqual(encoder.encode(texts, threads: threads), serial, "\(threads) threads")
        }
    }
}
