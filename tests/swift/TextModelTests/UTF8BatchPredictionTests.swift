import XCTest
@testable import TextModel

/// Batch prediction from UTF-8 C strings read in place (UTF8Texts, the C ABI's batch
/// calls): the bits of the [String] entries for the same texts as String(cString:)
/// reads them, for every encoder type and precision, at 1 and 2 threads.
final class UTF8BatchPredictionTests: XCTestCase {
    private static let texts = KeywordData.make(count: 300, seed: 5).texts
        + ["", "   ", "unseen words only", "ÉMOJI 🎉 and ünïcode", String(repeating: "pizza goal ", count: 300),
           "URL HTTP://A.b/C?d=E www.x.org and DON'T 'quote' x_y 42 #tag @user!!\u{7F}end'", "İstanbul ǅ ß ﬁ café e\u{301}"]
    private static let labels = ["food", "sport", "tech"]
    /// Invalid UTF-8 (a lone 0xFF, a truncated sequence): U+FFFD, as String(cString:) reads it.
    private static let invalid: [UInt8] = [0x61, 0x20, 0xFF, 0xC3, 0x20, 0x62, 0xE2, 0x82]

    /// Calls `body` with the texts as NUL-terminated C strings and as the Strings
    /// String(cString:) makes of them.
    private func withCStrings<R>(_ body: (UTF8Texts, [String]) throws -> R) rethrows -> R {
        let byteTexts = Self.texts.map { Array($0.utf8) } + [Self.invalid]
        let copies = byteTexts.map { bytes -> UnsafeMutablePointer<CChar> in
            let p = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
            for (i, b) in bytes.enumerated() { p[i] = CChar(bitPattern: b) }
            p[bytes.count] = 0
            return p
        }
        defer { copies.forEach { $0.deallocate() } }
        let pointers: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0) }
        return try pointers.withUnsafeBufferPointer { array in
            try body(UTF8Texts(cStrings: array.baseAddress, count: array.count), pointers.map { String(cString: $0!) })
        }
    }

    private func assertSameBits(_ model: Model, _ name: String) throws {
        try withCStrings { utf8, strings in
            let c = model.labels.count
            for threads in [1, 2] {
                try model.setPredictionThreads(threads)
                var viaBytes = [Float](repeating: .nan, count: strings.count * c)
                try model.predictProbabilities(utf8, into: &viaBytes)
                let viaStrings = try model.predictProbabilities(strings)
                XCTAssertEqual(viaBytes.map(\.bitPattern), viaStrings.map(\.bitPattern), "\(name), \(threads) threads: probabilities")
                var labels = [Int32](repeating: -1, count: strings.count * 2), probs = [Float](repeating: .nan, count: strings.count * 2)
                var stringLabels = labels, stringProbs = probs
                try model.predictTopK(utf8, k: 2, labels: &labels, probabilities: &probs)
                try model.predictTopK(strings, k: 2, labels: &stringLabels, probabilities: &stringProbs)
                XCTAssertEqual(labels, stringLabels, "\(name), \(threads) threads: top-2 labels")
                XCTAssertEqual(probs.map(\.bitPattern), stringProbs.map(\.bitPattern), "\(name), \(threads) threads: top-2")
                let f = try model.featureDimension()
                var vectors = [Float](repeating: .nan, count: strings.count * f)
                try model.sentenceVectors(utf8, into: &vectors)
                XCTAssertEqual(vectors.map(\.bitPattern), try model.sentenceVectors(strings).map(\.bitPattern),
                               "\(name), \(threads) threads: sentence vectors")
            }
        }
    }

    func testUTF8BatchesEqualStringBatchesForEveryEncoderAndPrecision() throws {
        var words = smallPredictionConfig(.bag)
        words.tokenizer.charNgramsMax = 0
        words.tokenizer.charNgramsMin = 0
        for (name, c) in [("bag with subwords", smallPredictionConfig(.bag)), ("bag of words", words), ("cnn", smallPredictionConfig(.cnn)),
                          ("lstm", smallPredictionConfig(.lstm)), ("transformer", smallPredictionConfig(.transformer))] {
            let f32 = Model(model: randomModel(config: c, texts: Self.texts, labels: Self.labels))
            try assertSameBits(f32, name)
            for precision in [WeightPrecision.f16, .int8] {
                try assertSameBits(try reloaded(f32, precision: precision), "\(name) \(precision)")
            }
        }
    }

    func testRegressionValuesAndEmptyBatches() throws {
        var regression = smallPredictionConfig(.bag)
        regression.model.task = .regression
        let model = Model(model: randomModel(config: regression, texts: Self.texts, labels: ["value"]))
        try withCStrings { utf8, strings in
            var values = [Float](repeating: .nan, count: strings.count)
            try model.predictValues(utf8, into: &values)
            XCTAssertEqual(values.map(\.bitPattern), try model.predictValues(strings).map(\.bitPattern))
        }
        var untouched: Float = 7
        try model.predictValues(UTF8Texts(cStrings: nil, count: 0), into: &untouched)
        XCTAssertEqual(untouched, 7, "no texts: nothing written")
    }
}
