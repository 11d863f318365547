import XCTest
@testable import TextModel

/// Model.predictOne (tm_model_predict_one): the label and probability of predicting
/// the text alone through the batch path, bit for bit, for every encoder type; nothing
/// allocated once warm; the errors of a regression or untrained model.
final class SingleTextPredictionTests: XCTestCase {
    private static let texts = KeywordData.make(count: 60, seed: 4).texts
        + ["", "   ", "unseen words only", "ÉMOJI 🎉 and ünïcode", String(repeating: "pizza goal ", count: 300)]
    /// The ASCII tokenizer's rules (URLs in any case, apostrophes, punctuation, DEL), a
    /// single 5,000-byte word and more Unicode: checked against a batch of one only (an
    /// int8 LSTM's text within a larger batch may differ by more than 1e-6).
    private static let edgeTexts = ["URL HTTP://A.b/C?d=E www.x.org and DON'T 'quote' x_y 42 #tag @user!!\u{7F}end'",
                                    String(repeating: "Pizza", count: 1_000), "İstanbul ǅ ß ﬁ ΣΑΣ café e\u{301}", "\t\n"]
    private static let labels = ["food", "sport", "tech"]

    private func assertOneEqualsBatch(_ config: Config, _ name: String) throws {
        let f32 = Model(model: randomModel(config: config, texts: Self.texts, labels: Self.labels))
        try assertOneEqualsBatch(f32, name)
        // f16 and int8 models: an int8 model's one-text call runs its int8 products too.
        for precision in [WeightPrecision.f16, .int8] {
            try assertOneEqualsBatch(try reloaded(f32, precision: precision), "\(name) \(precision)")
        }
    }

    private func assertOneEqualsBatch(_ model: Model, _ name: String) throws {
        var batchLabels = [Int32](repeating: -1, count: Self.texts.count)
        var batchProbs = [Float](repeating: .nan, count: Self.texts.count)
        try model.predictTopK(Self.texts, k: 1, labels: &batchLabels, probabilities: &batchProbs)
        for (i, text) in Self.texts.enumerated() {
            let one = try assertOneEqualsBatchOfOne(model, text, "\(name) text \(i)")
            XCTAssertEqual(Int32(one.label), batchLabels[i], "\(name) text \(i): label within the batch")
            XCTAssertEqual(one.probability, batchProbs[i], accuracy: 1e-6, "\(name) text \(i)")
        }
        for (i, text) in Self.edgeTexts.enumerated() {
            try assertOneEqualsBatchOfOne(model, text, "\(name) edge text \(i)")
        }
    }

    /// predictOne(text) has the label and the probability bits of a batch of one; returns it.
    @discardableResult
    private func assertOneEqualsBatchOfOne(_ model: Model, _ text: String, _ what: String) throws
        -> (label: Int, probability: Float) {
        let one = try model.predictOne(text)
        var label: Int32 = -1, prob: Float = .nan
        try model.predictTopK([text], k: 1, labels: &label, probabilities: &prob)
        XCTAssertEqual(Int32(one.label), label, "\(what): label of a batch of one")
        XCTAssertEqual(one.probability.bitPattern, prob.bitPattern, "\(what): probability bits")
        return one
    }

    func testPredictOneEqualsBatchPredictionForEveryEncoder() throws {
        try assertOneEqualsBatch(smallPredictionConfig(.bag), "bag with subwords")
        var words = smallPredictionConfig(.bag)
        words.tokenizer.charNgramsMax = 0
        words.tokenizer.charNgramsMin = 0
        try assertOneEqualsBatch(words, "bag of words and bigrams")
        for type in [Config.ModelType.cnn, .lstm, .gru, .transformer] {
            try assertOneEqualsBatch(smallPredictionConfig(type), type.rawValue)
        }
        var bidirectional = smallPredictionConfig(.lstm)
        bidirectional.model.bidirectional = true
        bidirectional.model.layers = 2
        try assertOneEqualsBatch(bidirectional, "2-layer bidirectional lstm")
        var multi = smallPredictionConfig(.bag)
        multi.model.task = .multiLabel
        try assertOneEqualsBatch(multi, "multi-label bag")
    }

    func testTheUTF8EntryEqualsTheStringEntry() throws {
        let model = Model(model: randomModel(config: smallPredictionConfig(.bag), texts: Self.texts, labels: Self.labels))
        for text in Self.texts + Self.edgeTexts + ["caf\u{E9} \u{301}x", "Tab\tand\nnewline", "http://example.com/x url"] {
            let bytes = Array(text.utf8)
            let viaBytes = try bytes.withUnsafeBufferPointer { try model.predictOne(utf8: $0) }
            let viaString = try model.predictOne(text)
            XCTAssertEqual(viaBytes.label, viaString.label)
            XCTAssertEqual(viaBytes.probability.bitPattern, viaString.probability.bitPattern)
        }
        // Invalid UTF-8 reads as U+FFFD, as String(cString:) reads it at the C ABI.
        let invalid: [UInt8] = [0x61, 0x20, 0xFF, 0xC3, 0x20, 0x62]
        let viaBytes = try invalid.withUnsafeBufferPointer { try model.predictOne(utf8: $0) }
        let viaString = try model.predictOne(String(decoding: invalid, as: UTF8.self))
        XCTAssertEqual(viaBytes.probability.bitPattern, viaString.probability.bitPattern)
    }

    func testWarmCallsAllocateNoWorkspace() throws {
        for type in [Config.ModelType.bag, .lstm] {
            let model = Model(model: randomModel(config: smallPredictionConfig(type), texts: Self.texts, labels: Self.labels))
            for text in Self.texts { _ = try model.predictOne(text) }   // warm: longest text seen
            let before = Workspace.allocationCount
            for _ in 0..<3 { for text in Self.texts { _ = try model.predictOne(text) } }
            XCTAssertEqual(Workspace.allocationCount, before, "\(type.rawValue): warm calls reuse the slot's workspace")
        }
    }

    func testRegressionAndUntrainedModelsAreRefused() throws {
        var regression = smallPredictionConfig(.bag)
        regression.model.task = .regression
        let model = Model(model: randomModel(config: regression, texts: Self.texts, labels: ["value"]))
        assertThrowsTextModelError(.invalidArgument, mentioning: ["regression"]) { _ = try model.predictOne("a b") }
        assertThrowsTextModelError(.state, mentioning: ["not trained"]) { _ = try Model(config: Config()).predictOne("a b") }
    }
}
