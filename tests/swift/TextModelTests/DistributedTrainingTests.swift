// Training across processes (docs/dask.md): counts of disjoint rows merge into the
// vocabulary and labels of all of them (also with canonically equivalent spellings
// and min_freq / max_size cuts), their JSON form round-trips and refuses junk, and
// epoch ranges continued from returned states give the one-run weights bit for bit.
import XCTest
@testable import TextModel

final class DistributedTrainingTests: XCTestCase {

    private func slice(_ data: LabelledTexts, _ range: Range<Int>) -> LabelledTexts {
        var out = LabelledTexts()
        for i in range { out.append(text: data.texts[i], label: data.labels[i]) }
        return out
    }

    func testMergedCountsBuildTheOneProcessVocabulary() throws {
        var config = tinyConfig()
        config.tokenizer.minFreq = 2
        config.tokenizer.maxSize = 12
        var data = KeywordData.make(count: 90, seed: 3)
        // "é" precomposed in one half, decomposed in the other: one token, as on one machine.
        data.append(text: "caf\u{E9} caf\u{E9} pizza", label: "food")
        data.append(text: "cafe\u{301} goal", label: "sport")
        let whole = CorpusCounts(config: config, data: data)
        var merged = CorpusCounts()
        for part in [0..<30, 30..<91, 91..<92] { merged.merge(CorpusCounts(config: config, data: slice(data, part))) }
        XCTAssertEqual(merged.vocabulary(config.tokenizer).tokens, whole.vocabulary(config.tokenizer).tokens)
        let tokenizer = Tokenizer(config.tokenizer)
        let direct = Vocabulary.build(texts: data.texts, tokenizer: tokenizer, threads: 1, minFreq: 2, maxSize: 12)
        XCTAssertEqual(merged.vocabulary(config.tokenizer).tokens, direct.tokens)
        XCTAssertEqual(merged.labels, KeywordData.classes)
        XCTAssertEqual(merged.rows, data.count)

        let back = try CorpusCounts(json: merged.json.serialized)
        XCTAssertEqual(back.json.serialized, merged.json.serialized)
        for junk in ["", "[]", "{\"format\": \"libtextmodel-corpus-counts\"}",
                     "{\"format\": \"libtextmodel-corpus-counts\", \"format_version\": 1, \"rows\": 1, \"tokens\": [[\"a\"]], \"labels\": []}",
                     "{\"format\": \"libtextmodel-corpus-counts\", \"format_version\": 1, \"rows\": -1, \"tokens\": [], \"labels\": []}"] {
            assertThrowsTextModelError(.invalidArgument, mentioning: ["corpus counts"]) { _ = try CorpusCounts(json: junk) }
        }
    }

    /// tokenizer.fit_buckets sizes the buckets from every process's rows: counts merged
    /// from parts fit the count one machine fits from all the rows, whatever part a
    /// process trains on, so the processes' weights keep one shape.
    func testMergedCountsFitTheOneProcessBucketCount() throws {
        var config = Config(modelType: .bag)
        config.tokenizer.buckets = 200_000
        config.training.epochs = 1
        let data = KeywordData.make(count: 120, seed: 7)
        let whole = try TrainingSet(config: config, data: data, validation: nil)
        var merged = CorpusCounts()
        for part in [0..<40, 40..<120] { merged.merge(CorpusCounts(config: config, data: slice(data, part))) }
        let back = try CorpusCounts(json: merged.json.serialized)
        let firstPart = try TrainingSet(config: config, data: slice(data, 0..<40), validation: nil, counts: back)
        XCTAssertLessThan(whole.tokenizer.buckets, 200_000, "these few texts fit far fewer buckets")
        XCTAssertEqual(firstPart.tokenizer.buckets, whole.tokenizer.buckets)
        let alone = try TrainingSet(config: config, data: slice(data, 0..<40), validation: nil)
        XCTAssertEqual(merged.bucketsUsed(200_000), CorpusCounts(config: config, data: data).bucketsUsed(200_000))
        XCTAssertLessThanOrEqual(alone.tokenizer.buckets, whole.tokenizer.buckets)
        assertThrowsTextModelError(.invalidArgument, mentioning: ["buckets_used"]) {
            _ = try CorpusCounts(json: "{\"format\": \"libtextmodel-corpus-counts\", \"format_version\": 1, \"rows\": 0, \"tokens\": [], \"labels\": [], \"buckets\": 64, \"buckets_used\": \"zz\"}")
        }
    }

    func testEpochRangesContinueToTheOneRunWeights() throws {
        // An LSTM, and the bag model's default (Hogwild, buckets fitted to the data: the
        // continuation must survive the retrain with the fitted count).
        var bag = Config(modelType: .bag)
        bag.training.epochs = 3
        bag.training.threads = 1
        for config in [tinyConfig(epochs: 3), bag] { try assertEpochRangesContinueToTheOneRunWeights(config) }
    }

    private func assertEpochRangesContinueToTheOneRunWeights(_ config: Config) throws {
        let data = KeywordData.make(count: 80, seed: 5)
        let one = Model(config: config)
        try one.train(data)
        let split = Model(config: config)
        let counts = CorpusCounts(config: config, data: data)
        var state = try split.trainEpochs(data, counts: counts, state: nil, parameters: nil, lastEpoch: 0).state
        for last in [1, 3] {
            state = try split.trainEpochs(data, counts: counts, state: state, parameters: nil, lastEpoch: last).state
        }
        let n = try one.parameterCount()
        var a = [Float](repeating: 0, count: n), b = [Float](repeating: 1, count: n)
        try a.withUnsafeMutableBufferPointer { try one.copyParameters(into: $0.baseAddress!, count: n) }
        try b.withUnsafeMutableBufferPointer { try split.copyParameters(into: $0.baseAddress!, count: n) }
        XCTAssertEqual(a, b)
        XCTAssertEqual(try split.serialized(), try one.serialized())
    }
}
