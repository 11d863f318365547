import XCTest
@testable import TextModel

/// CompactTexts, the bag model's training texts kept as their words: expanded, they are
/// exactly FeatureEncoder's ids (same ids, same order) for every n-gram setting, unknown
/// and non-ASCII words, on one thread or two, after fitting the buckets; their
/// checksum is the flat set's; a Hogwild epoch on them moves the weights bit for bit as
/// on the flat set; and the default bag model's training set holds them.
final class CompactTextsTests: XCTestCase {
    private let extras = ["unseen wordz here", "", "émoji 🎉 ünïcode", "cafe\u{301} café CAFÉ", "https://t.co/abc words",
                          "one", "the the the the the", "Zebra, QUICK? brown!! fox...", String(repeating: "long words ", count: 90)]

    private func texts(_ count: Int, seed: UInt64) -> [String] {
        KeywordData.make(count: count, seed: seed).texts + extras
    }

    private func encoder(_ tokenizer: Config.Tokenizer, vocabularyFrom texts: [String]) -> FeatureEncoder {
        let split = Tokenizer(tokenizer)
        let vocabulary = Vocabulary.build(from: texts.map(split.tokenize), minFreq: 1, maxSize: 60)
        return FeatureEncoder(config: tokenizer, vocabulary: vocabulary)
    }

    private func compact(_ texts: [String], _ encoder: FeatureEncoder, threads: Int) -> CompactTexts {
        var tokens = TokenBuffer(), lengths = [Int](), counts = [Int32]()
        for t in texts {
            encoder.tokenizer.tokenize(t, into: &tokens)
            lengths.append(FeatureEncoder.encodedLength(tokens, hasher: encoder.hasher))
            counts.append(Int32(tokens.count))
        }
        var consumed = texts
        return CompactTexts(consuming: &consumed, lengths: lengths, tokens: counts, encoder: encoder, threads: threads)
    }

    private var settings: [Config.Tokenizer] {
        var bag = Config(modelType: .bag).tokenizer   // bigrams, character 3- to 5-grams
        bag.buckets = 5_000
        var trigrams = bag
        trigrams.wordNgrams = 3
        trigrams.charNgramsMax = 0
        var characters = bag
        characters.wordNgrams = 1
        characters.charNgramsMin = 1
        characters.charNgramsMax = 3
        return [bag, trigrams, characters]
    }

    func testExpandedTextsAreTheEncodedOnes() {
        let all = texts(300, seed: 3)
        for tokenizer in settings {
            // Known non-ASCII words too; the extras' other words are unknown.
            let enc = encoder(tokenizer, vocabularyFrom: Array(all.prefix(100)) + ["café émoji ünïcode"])
            XCTAssertTrue(CompactTexts.supports(enc))
            let flat = enc.encode(all, threads: 1)
            for threads in [1, 2] {
                let texts = compact(all, enc, threads: threads)
                XCTAssertEqual(texts.expandedAll(), flat, "word_ngrams \(tokenizer.wordNgrams), chars \(tokenizer.charNgramsMin)…\(tokenizer.charNgramsMax), \(threads) thread(s)")
                XCTAssertEqual(texts.featureCount, flat.totalLength)
                XCTAssertEqual(texts.longest, flat.longest)
                // The default bag's ~16 ids a word are stored in about one; bigrams alone in about one of 2.
                XCTAssertLessThan(texts.stored.totalLength * (tokenizer.charNgramsMax > 0 ? 4 : 1), flat.totalLength)
            }
        }
    }

    func testHashedWordsAndNoNGramsStayFlat() {
        var hashed = Config(modelType: .bag).tokenizer
        hashed.vocabulary = .hashed
        XCTAssertFalse(CompactTexts.supports(encoder(hashed, vocabularyFrom: extras)))
        var words = Config(modelType: .bag).tokenizer
        words.wordNgrams = 1
        words.charNgramsMax = 0
        XCTAssertFalse(CompactTexts.supports(encoder(words, vocabularyFrom: extras)))
    }

    func testRefittedTextsAreTheFittedEncodersIDs() throws {
        let all = texts(200, seed: 4)
        var tokenizer = Config(modelType: .bag).tokenizer
        tokenizer.buckets = 200_000
        let wide = encoder(tokenizer, vocabularyFrom: Array(all.prefix(80)))
        var texts = compact(all, wide, threads: 1)
        let flat = wide.encode(all, threads: 1)
        let used = flat.withUnsafeStorage { ids, _ in BucketSizing.distinctBuckets(ids, base: wide.vocabulary.count, buckets: 200_000) }
        XCTAssertEqual(texts.distinctBuckets(buckets: 200_000), used)
        let fitted = BucketSizing.fitted(configured: 200_000, used: used)
        XCTAssertLessThan(fitted, 200_000)
        var narrow = tokenizer
        narrow.buckets = fitted
        let narrowEncoder = FeatureEncoder(config: narrow, vocabulary: wide.vocabulary)
        try texts.refit(narrowEncoder)
        XCTAssertEqual(texts.expandedAll(), narrowEncoder.encode(all, threads: 1))
    }

    func testChecksumIsTheFlatSets() {
        let all = texts(150, seed: 5)
        let enc = encoder(Config(modelType: .bag).tokenizer, vocabularyFrom: all)
        let flat = enc.encode(all, threads: 1)
        // What TrainingSet.fingerprint added for a flat set before compact sets existed.
        var crc: UInt32 = 7
        func add(_ values: [Int32]) {
            var n = Int32(truncatingIfNeeded: values.count)
            crc = withUnsafeBytes(of: &n) { CRC32.checksum($0, seed: crc) }
            crc = values.withUnsafeBytes { CRC32.checksum($0, seed: crc) }
        }
        add(flat.ids)
        add(flat.offsets.map { Int32(truncatingIfNeeded: $0) })
        XCTAssertEqual(TrainingExamples.flat(flat).checksum(seed: 7), crc)
        XCTAssertEqual(TrainingExamples.compact(compact(all, enc, threads: 1)).checksum(seed: 7), crc)
    }

    func testHogwildEpochMovesTheWeightsAsOnTheFlatSet() throws {
        let all = texts(200, seed: 6)
        var tokenizer = Config(modelType: .bag).tokenizer
        tokenizer.buckets = 3_000
        let enc = encoder(tokenizer, vocabularyFrom: Array(all.prefix(120)))
        var c = Config(modelType: .bag)
        c.model.embeddingDim = 8
        c.tokenizer = tokenizer
        let network = NetworkBuilder.make(config: c, vocabularySize: enc.vocabulary.count, classes: 3)
        let targets = (0..<all.count).map { Int32($0 % 3) }
        let order = Array((0..<Int32(all.count)).reversed())
        var results = [[Float]]()
        for examples in [TrainingExamples.flat(enc.encode(all, threads: 1)), .compact(compact(all, enc, threads: 1))] {
            let params = FloatBuffer.zeros(count: network.layout.count)
            var rng = SeededGenerator(seed: 2)
            network.initialize(params.pointer, rng: &rng)
            var step = try HogwildStep(network: network, examples: examples, targets: targets, classWeights: [1, 1, 1],
                                       smoothing: 0, learningRate: 0.3, updateEmbeddings: true, progressEvery: 1000, threads: 1)
            var state = TrainingState(parameters: params, optimizer: SGD(count: 0, learningRate: 0.3, momentum: 0),
                                      rng: SeededGenerator(seed: 1), totalSteps: all.count,
                                      schedule: LearningRateSchedule(config: c.training, totalSteps: all.count, stepsPerEpoch: all.count))
            _ = try step.run(order[...], epoch: 1, state: &state) { _, _ in false }
            results.append(Array(UnsafeBufferPointer(start: params.pointer, count: network.layout.count)))
        }
        XCTAssertEqual(results[0], results[1], "bit for bit")
    }

    func testTheDefaultBagModelsTrainingSetIsCompact() throws {
        let config = try Config(json: #"{"training": {"epochs": 1, "threads": 1}}"#)
        let set = try TrainingSet(config: config, data: KeywordData.make(count: 100, seed: 7), validation: nil)
        guard case .compact = set.examples else { return XCTFail("the default bag model's examples are flat") }
        var plain = config
        plain.training.hogwild = false
        let flat = try TrainingSet(config: plain, data: KeywordData.make(count: 100, seed: 7), validation: nil)
        guard case .flat(let encoded) = flat.examples else { return XCTFail("data-parallel examples are compact") }
        XCTAssertEqual(try set.examples.features(), encoded)
        XCTAssertEqual(set.fingerprint(), flat.fingerprint())
        XCTAssertEqual(set.tokenizer.buckets, flat.tokenizer.buckets)
    }
}
