// Token attributions (Attribution/): the quadrature rule, the byte spans of tokens, the
// bag's feature sources, integrated gradients against their closed form, occlusion
// against exact leave-one-token-out predictions, completeness for every encoder and
// task, thread independence, and sentence vectors against the output layer.
#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import TextModel

final class ExplainTests: XCTestCase {

    // MARK: helpers

    private static let texts = ["the pizza was very good", "Goal! the TEAM scored", "my laptop has a bug today",
                                "soup", "", "we saw a big match and the coach said pasta"]

    private func config(_ type: Config.ModelType, task: Config.Task = .singleLabel) -> Config {
        var c = tinyConfig(embedding: 8, hidden: 6)
        c.model.type = type
        c.model.task = task
        c.model.kernelSizes = [2, 3]
        c.model.filters = 4
        c.model.heads = 2
        c.model.pooling = .mean
        c.tokenizer.maxLength = 32
        if type == .bag {
            c.tokenizer.wordNgrams = 2
            c.tokenizer.charNgramsMin = 2
            c.tokenizer.charNgramsMax = 4
            c.tokenizer.buckets = 1000
        }
        return c
    }

    /// A model with every weight random (the bag's output layer starts at zero
    /// otherwise, which would make every attribution 0).
    private func model(_ config: Config, labels: [String] = ["a", "b", "c"], seed: UInt64 = 3,
                       scaling: TargetScaling = .identity) -> TrainedModel {
        let texts = ExplainTests.texts + KeywordData.make(count: 50, seed: 1).texts
        let tokenizer = Tokenizer(config.tokenizer)
        let vocabulary = Vocabulary.build(from: texts.map(tokenizer.tokenize), minFreq: 1, maxSize: config.tokenizer.maxSize)
        // One output for regression, one per label otherwise.
        let network = NetworkBuilder.make(config: config, vocabularySize: vocabulary.count, labels: labels.count)
        let parameters = FloatBuffer.zeros(count: network.layout.count)
        var rng = SeededGenerator(seed: seed)
        for k in 0..<network.layout.count { parameters.pointer[k] = rng.uniform(-0.6, 0.6) }
        return TrainedModel(config: config, vocabulary: vocabulary, labels: labels, scaling: scaling,
                            network: network, parameters: parameters, inputTable: .never)
    }

    private func explain(_ model: TrainedModel, _ texts: [String], _ options: AttributionOptions = AttributionOptions(),
                         threads: Int = 1) throws -> [TextAttribution] {
        try Explainer(model: model, options: options).explain(texts.map { Array($0.utf8) }, threads: threads)
    }

    private func bagWithoutNGrams() -> Config {
        var c = config(.bag)
        c.tokenizer.wordNgrams = 1
        c.tokenizer.charNgramsMin = 0
        c.tokenizer.charNgramsMax = 0
        return c
    }

    // MARK: quadrature

    func testGaussLegendreIsExactUpToDegreeTwoNMinusOne() {
        for n in [1, 2, 3, 7, 20, 50, 300] {
            let rule = GaussLegendre(points: n)
            XCTAssertEqual(rule.weights.reduce(0, +), 1, accuracy: 1e-12, "n = \(n)")
            XCTAssertTrue(rule.nodes.allSatisfy { $0 > 0 && $0 < 1 })
            XCTAssertEqual(rule.nodes, rule.nodes.sorted())
            for degree in 0...min(2 * n - 1, 40) {
                let integral = zip(rule.nodes, rule.weights).reduce(0.0) { $0 + $1.1 * pow($1.0, Double(degree)) }
                XCTAssertEqual(integral, 1 / Double(degree + 1), accuracy: 1e-11, "n = \(n), degree \(degree)")
            }
        }
        // One degree more is not exact: the rule is Gauss's, not something wider.
        let two = GaussLegendre(points: 2)
        let quartic = zip(two.nodes, two.weights).reduce(0.0) { $0 + $1.1 * pow($1.0, 4) }
        XCTAssertGreaterThan(abs(quartic - 0.2), 1e-3)
    }

    // MARK: spans

    func testSpansSliceTheOriginalTextAndGiveTheTokensOfTokenize() {
        let tokenizer = makeTokenizer()
        let cases = ["Héllo WÖRLD, ça va?", "東京は晴れ、今日は暑い", "I ❤️ 🐕🐕 and 👩‍💻!", "İSTANBUL ﬁnal straße",
                     "Visit HTTPS://Example.com/A?b now", "don't 'quote' it's", "e\u{301}t\u{E9} ÉTÉ", "ΣΊΣΥΦΟΣ"]
        for text in cases {
            let spans = tokenizer.tokenizeWithSpans(text)
            XCTAssertEqual(spans.map { $0.text }, tokenizer.tokenize(text), text)
            let bytes = Array(text.utf8)
            var previous = 0
            for s in spans {
                XCTAssertGreaterThanOrEqual(s.bytes.lowerBound, previous, "tokens in order, not overlapping: \(text)")
                previous = s.bytes.upperBound
                let original = String(decoding: bytes[s.bytes], as: UTF8.self)
                // The slice is the token as written: lower-casing it gives the token
                // (or it is the URL the <url> token stands for).
                if s.text == Tokenizer.urlToken {
                    XCTAssertTrue(original.lowercased().hasPrefix("https://"), original)
                } else {
                    XCTAssertEqual(tokenizer.tokenize(original), [s.text], "\(text): \(original)")
                }
            }
        }
        let spans = tokenizer.tokenizeWithSpans("Café 日本 🐕")
        XCTAssertEqual(spans.map { $0.bytes }, [0..<5, 6..<12, 13..<17])
    }

    func testInvalidUTF8ReadsAsTheRepairedTextWithSpansOverTheInvalidBytes() {
        let tokenizer = makeTokenizer()
        var rng = SeededGenerator(seed: 5)
        let pieces: [[UInt8]] = [Array("ab".utf8), [0x20], [0xFF], [0xC3], [0xC3, 0xA9], [0xE6, 0x97], [0xE6, 0x97, 0xA5],
                                 [0xF0, 0x9F, 0x90], [0xED, 0xA0, 0x80], [0x80, 0x80], Array("Xy".utf8), [0x2C]]
        for _ in 0..<2000 {
            var bytes = [UInt8]()
            for _ in 0..<Int(rng.next() % 12) { bytes += pieces[Int(rng.next() % UInt64(pieces.count))] }
            let repaired = String(decoding: bytes, as: UTF8.self)
            let spans = tokenizer.tokenizeWithSpans(utf8: bytes)
            XCTAssertEqual(spans.map { $0.text }, tokenizer.tokenize(repaired), "\(bytes)")
            for s in spans {
                XCTAssertTrue(s.bytes.lowerBound >= 0 && s.bytes.upperBound <= bytes.count && !s.bytes.isEmpty)
                XCTAssertEqual(tokenizer.tokenize(String(decoding: bytes[s.bytes], as: UTF8.self)), [s.text], "\(bytes)")
            }
        }
        let spans = tokenizer.tokenizeWithSpans(utf8: [0x61, 0x20, 0xFF, 0x20, 0x62])
        XCTAssertEqual(spans, [SpannedToken(text: "a", bytes: 0..<1), SpannedToken(text: "\u{FFFD}", bytes: 2..<3),
                               SpannedToken(text: "b", bytes: 4..<5)])
    }

    func testTracedEncodingEqualsEncodeWithASourceForEveryId() {
        var c = config(.bag)
        c.tokenizer.wordNgrams = 3
        c.tokenizer.charNgramsMin = 2
        c.tokenizer.charNgramsMax = 4
        let m = model(c)
        for text in ExplainTests.texts + ["Héllo 日本 🐕 ok", "a", "x y"] {
            let traced = m.encoder.traced(utf8: Array(text.utf8))
            XCTAssertEqual(traced.ids, m.encoder.encode(text), text)
            XCTAssertEqual(traced.sources.count, traced.ids.count, text)
            XCTAssertTrue(traced.sources.allSatisfy { !$0.isEmpty && $0.upperBound <= traced.words })
            XCTAssertEqual(Array(traced.sources.prefix(traced.words)), (0..<traced.words).map { $0..<($0 + 1) })
        }
    }

    // MARK: closed forms

    /// Bag without n-grams: logit_c = W_c · mean(x) + b_c, so with a zero baseline the
    /// integrated gradients of the logit are W_c · x_t / T exactly, and f(baseline) = b_c.
    func testBagIntegratedGradientsOfTheLogitEqualTheirClosedForm() throws {
        let m = model(bagWithoutNGrams())
        var options = AttributionOptions()
        options.output = .logit
        options.steps = 3
        let results = try explain(m, ExplainTests.texts, options)
        let n = m.network, e = n.input.dim, p = m.parameters.pointer
        for (text, r) in zip(ExplainTests.texts, results) {
            let ids = m.encoder.encode(text)
            XCTAssertEqual(r.tokens.count, ids.count)
            let w = p + n.outputWeight.offset + r.target * e
            for (t, id) in ids.enumerated() {
                let x = p + n.input.table.offset + Int(id) * e
                var expected = 0.0
                for j in 0..<e { expected += Double(w[j]) * Double(x[j]) }
                XCTAssertEqual(Double(r.tokens[t].score), expected / Double(ids.count), accuracy: 1e-5, text)
            }
            XCTAssertEqual(r.referenceOutput, Double(p[n.outputBias.offset + r.target]), accuracy: 1e-6)
            XCTAssertEqual(r.delta, 0, accuracy: 1e-5)
        }
    }

    /// Two classes: p_c = σ(z_c − z_o) and along the path z_c − z_o = α d + (b_c − b_o)
    /// with d = Σ_t d_t, d_t = (W_c − W_o) · x_t / T. Every token's integrand shares the
    /// factor σ'(·), so token t gets d_t / d of p(x) − p(0): the closed form.
    func testBinaryBagIntegratedGradientsOfTheProbabilityEqualTheirClosedForm() throws {
        let m = model(bagWithoutNGrams(), labels: ["neg", "pos"])
        var options = AttributionOptions()
        options.steps = 50
        let results = try explain(m, Array(ExplainTests.texts.prefix(4)), options)
        let n = m.network, e = n.input.dim, p = m.parameters.pointer
        for (text, r) in zip(ExplainTests.texts, results) {
            let ids = m.encoder.encode(text)
            let c = r.target, o = 1 - r.target
            let shares: [Double] = ids.map { id in
                let x = p + n.input.table.offset + Int(id) * e
                var d = 0.0
                for j in 0..<e { d += Double(p[n.outputWeight.offset + c * e + j] - p[n.outputWeight.offset + o * e + j]) * Double(x[j]) }
                return d / Double(ids.count)
            }
            let total = shares.reduce(0, +)
            for t in ids.indices {
                XCTAssertEqual(Double(r.tokens[t].score), shares[t] / total * (r.output - r.referenceOutput), accuracy: 1e-5, text)
            }
        }
    }

    // MARK: occlusion

    /// With the <unk> reference and window 1, occluding token t is predicting the text
    /// with that word replaced by an unknown one: checked against the ordinary
    /// prediction path (ids, not embeddings) for the bag and an LSTM.
    func testOcclusionEqualsExactLeaveOneTokenOutPredictions() throws {
        for c in [bagWithoutNGrams(), config(.lstm), config(.transformer)] {
            let m = model(c)
            var options = AttributionOptions()
            options.method = .occlusion
            options.reference = .unknown
            let texts = ["the pizza was very good", "my laptop has a bug today"]
            let results = try explain(m, texts, options)
            for (text, r) in zip(texts, results) {
                let words = text.split(separator: " ").map(String.init)
                XCTAssertTrue(r.delta.isNaN && r.referenceOutput.isNaN)
                for t in words.indices {
                    var replaced = words
                    replaced[t] = "qqzzxxunseen"
                    let after = probabilities(m, [replaced.joined(separator: " ")])[r.target]
                    XCTAssertEqual(Double(r.tokens[t].score), r.output - Double(after), accuracy: 2e-6, "\(c.model.type) \(text) \(t)")
                }
            }
        }
    }

    /// The padding reference sets the token's row to zeros: for the bag, the mean of
    /// the other rows over the same count (closed form from the weights).
    func testBagOcclusionWithPaddingZeroesTheTokensRow() throws {
        let m = model(bagWithoutNGrams())
        var options = AttributionOptions()
        options.method = .occlusion
        options.output = .logit
        let text = "we saw a big match"
        let r = try explain(m, [text], options)[0]
        let n = m.network, e = n.input.dim, p = m.parameters.pointer, ids = m.encoder.encode(text)
        func logit(without skipped: Int) -> Double {
            var z = Double(p[n.outputBias.offset + r.target])
            for (t, id) in ids.enumerated() where t != skipped {
                for j in 0..<e {
                    z += Double(p[n.outputWeight.offset + r.target * e + j]) * Double(p[n.input.table.offset + Int(id) * e + j]) / Double(ids.count)
                }
            }
            return z
        }
        XCTAssertEqual(r.output, logit(without: -1), accuracy: 1e-5)
        for t in ids.indices { XCTAssertEqual(Double(r.tokens[t].score), r.output - logit(without: t), accuracy: 1e-5) }
    }

    func testOcclusionWindowsAverageOverTheWindowsCoveringEachToken() throws {
        let m = model(config(.lstm))
        var one = AttributionOptions(), three = AttributionOptions()
        one.method = .occlusion
        three.method = .occlusion
        three.window = 3
        let text = "we saw a big match today"
        let whole = try explain(m, [text], { var o = three; o.window = 99; return o }())[0]
        let wide = try explain(m, [text], three)[0]
        XCTAssertEqual(wide.tokens.count, 6)
        // A window as wide as the text covers it all: every token gets the same drop.
        XCTAssertTrue(whole.tokens.allSatisfy { $0.score == whole.tokens[0].score })
        // The first token is covered by one window of three, the third by three.
        XCTAssertNotEqual(wide.tokens[0].score, try explain(m, [text], one)[0].tokens[0].score)
    }

    // MARK: completeness, every encoder and task

    func testIntegratedGradientsAreCompleteForEveryEncoderAndTask() throws {
        let types: [Config.ModelType] = [.bag, .lstm, .gru, .rnn, .transformer]
        for type in types {
            for task in [Config.Task.singleLabel, .multiLabel, .regression] {
                var c = config(type, task: task)
                if type == .gru { c.model.bidirectional = true; c.model.layers = 2 }
                let labels = task == .regression ? [] : ["a", "b", "c"]
                let m = model(c, labels: labels, scaling: task == .regression ? TargetScaling(mean: 3, std: 2) : .identity)
                for output in [AttributionOutput.probability, .logit] {
                    var options = AttributionOptions()
                    options.output = output
                    options.steps = 50
                    for r in try explain(m, ExplainTests.texts, options) {
                        let scale = max(abs(r.output - r.referenceOutput), 1e-3)
                        XCTAssertLessThan(abs(r.delta) / scale, 1e-3, "\(type) \(task) \(output): \(r)")
                        XCTAssertEqual(r.tokens.reduce(0.0) { $0 + Double($1.score) } - (r.output - r.referenceOutput), r.delta,
                                       accuracy: 1e-4)
                    }
                }
            }
        }
    }

    /// ReLU and max-pooling make the CNN's path piecewise smooth: more points, looser.
    func testCNNIntegratedGradientsConvergeWithSteps() throws {
        var c = config(.cnn)
        c.model.dropout = 0
        let m = model(c)
        var options = AttributionOptions()
        options.steps = 300
        for r in try explain(m, ExplainTests.texts, options) where !r.tokens.isEmpty {
            XCTAssertLessThan(abs(r.delta), 0.05 * max(abs(r.output - r.referenceOutput), 1e-3), "\(r)")
        }
    }

    func testTargetsPredictedGivenAndMultiLabelOneAtATime() throws {
        let m = model(config(.lstm, task: .multiLabel))
        let texts = Array(ExplainTests.texts.prefix(3))
        let probs = probabilities(m, texts)
        let predicted = try explain(m, texts)
        for (i, r) in predicted.enumerated() {
            let row = Array(probs[(i * 3)..<(i * 3 + 3)])
            XCTAssertEqual(r.target, row.firstIndex(of: row.max()!))
            XCTAssertEqual(r.output, Double(row[r.target]), accuracy: 1e-5)
        }
        for label in 0..<3 {
            var options = AttributionOptions()
            options.target = label
            for (i, r) in try explain(m, texts, options).enumerated() {
                XCTAssertEqual(r.target, label)
                XCTAssertEqual(r.output, Double(probs[i * 3 + label]), accuracy: 1e-5)
            }
        }
        var bad = AttributionOptions()
        bad.target = 3
        assertThrowsTextModelError(.invalidArgument, mentioning: ["target", "3"]) { try explain(m, texts, bad) }
        bad.target = nil
        bad.steps = 0
        assertThrowsTextModelError(.invalidArgument, mentioning: ["steps"]) { try explain(m, texts, bad) }
        let regression = model(config(.bag, task: .regression), labels: [], scaling: TargetScaling(mean: 10, std: 4))
        var one = AttributionOptions()
        one.target = 1
        assertThrowsTextModelError(.invalidArgument, mentioning: ["regression"]) { try explain(regression, texts, one) }
        var values = [Float](repeating: 0, count: texts.count)
        try values.withUnsafeMutableBufferPointer { try regression.outputs(of: texts, into: $0.baseAddress!) }
        for (r, v) in zip(try explain(regression, texts), values) { XCTAssertEqual(r.output, Double(v), accuracy: 1e-4) }
    }

    // MARK: threads

    func testResultsDoNotDependOnThreadsAndManyThreadsMayExplainAtOnce() throws {
        let m = model(config(.lstm))
        let texts = (0..<40).map { ExplainTests.texts[$0 % ExplainTests.texts.count] + " \($0)" }
        var options = AttributionOptions()
        options.steps = 20
        let one = try explain(m, texts, options, threads: 1)
        let two = try explain(m, texts, options, threads: 2)
        XCTAssertEqual(one.map { $0.tokens }, two.map { $0.tokens })
        let model = Model(model: m)
        let results = UnsafeMutableBufferPointer<[TokenAttribution]>.allocate(capacity: 4)
        results.initialize(repeating: [])
        defer { results.deallocate() }
        Parallel.run(4) { w in
            results[w] = (try? model.explain([texts[w]], options: options))?.first?.tokens ?? []
        }
        // Each thread explained one text: as that text explained alone.
        for w in 0..<4 { XCTAssertEqual(results[w], try explain(m, [texts[w]], options)[0].tokens) }
    }

    // MARK: sentence vectors

    func testSentenceVectorsAreWhatTheOutputLayerReads() throws {
        for type in [Config.ModelType.bag, .lstm, .cnn, .transformer] {
            let m = model(config(type))
            let model = Model(model: m)
            let f = try model.featureDimension()
            XCTAssertEqual(f, m.network.encoder.featureDim)
            let vectors = try model.sentenceVectors(ExplainTests.texts)
            XCTAssertEqual(vectors.count, ExplainTests.texts.count * f)
            let probs = try model.predictProbabilities(ExplainTests.texts)
            let n = m.network, p = m.parameters.pointer
            for i in ExplainTests.texts.indices {
                var z = (0..<3).map { c -> Double in
                    var s = Double(p[n.outputBias.offset + c])
                    for j in 0..<f { s += Double(p[n.outputWeight.offset + c * f + j]) * Double(vectors[i * f + j]) }
                    return s
                }
                let top = z.max()!
                z = z.map { exp($0 - top) }
                let sum = z.reduce(0, +)
                for c in 0..<3 { XCTAssertEqual(z[c] / sum, Double(probs[i * 3 + c]), accuracy: 1e-5, "\(type)") }
            }
        }
        assertThrowsTextModelError(.state) { try Model(config: config(.bag)).sentenceVectors(["x"]) }
        assertThrowsTextModelError(.state) { try Model(config: config(.bag)).explain(["x"]) }
    }
}
