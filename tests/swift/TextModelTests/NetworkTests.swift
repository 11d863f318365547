// The composed network at inference: packing, agreement with a plain reference LSTM,
// padding invariance (a text's result does not depend on its batch), and the
// prediction API built on it.
#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import TextModel

final class NetworkTests: XCTestCase {

    static let texts = [
        "the quick brown fox jumps over the lazy dog",
        "hello",
        "hello world",
        "a b c d e f g h i j k l m n o p",
        "dog",
        "",
        "unknown zebra words",
        "the the the the",
        "fox dog hello world again and again",
        "   ",
    ]
    static let labels = ["x", "y", "z"]

    // MARK: PackedBatch

    func testPackedBatchLayout() {
        let batch = PackedBatch()
        batch.pack([[1, 2, 3], [4, 5], [6, 7], [8], []].map { ($0 as [Int32])[...] })
        XCTAssertEqual(batch.size, 5)
        XCTAssertEqual(batch.lengths, [3, 2, 2, 1, 0])
        XCTAssertEqual(batch.steps, 3)
        XCTAssertEqual(batch.stepRows, [4, 3, 1])
        XCTAssertEqual(batch.stepOffsets, [0, 4, 7])
        XCTAssertEqual(batch.tokens, [1, 4, 6, 8, 2, 5, 7, 3])
        XCTAssertEqual(batch.lastRows, [7, 5, 6, 3, -1])
        XCTAssertEqual(batch.totalRows, 8)
        // Re-packing replaces everything.
        batch.pack([[9], [10]].map { ($0 as [Int32])[...] })
        XCTAssertEqual(batch.lengths, [1, 1])
        XCTAssertEqual(batch.stepRows, [2])
        XCTAssertEqual(batch.tokens, [9, 10])
        XCTAssertEqual(batch.lastRows, [0, 1])
        batch.pack([ArraySlice<Int32>]())
        XCTAssertEqual(batch.size, 0)
        XCTAssertEqual(batch.totalRows, 0)
        // Slices that do not start at index 0.
        let long: [Int32] = [0, 0, 5, 6, 7]
        batch.pack([long[2...], long[3...]])
        XCTAssertEqual(batch.tokens, [5, 6, 6, 7, 7])
    }

    // MARK: reference forward pass

    /// Probabilities of one encoded text from the definition (PyTorch LSTM, gate order
    /// i, f, g, o), in Double with libm functions.
    private func reference(_ model: TrainedModel, _ ids: [Int32]) -> [Double] {
        let p = model.parameters.pointer
        guard let net = model.network.recurrent else {
            XCTFail("the reference model is for LSTM networks")
            return []
        }
        func tensor(_ name: String) -> (Int, [Int]) {
            let t = net.layout.tensor(named: name)!
            return (t.offset, t.shape)
        }
        let h = net.hiddenDim
        let (embOffset, embShape) = tensor("embedding.weight")
        var inputs: [[Double]] = ids.map { id in (0..<embShape[1]).map { Double(p[embOffset + Int(id) * embShape[1] + $0]) } }
        for l in 0..<net.layers {
            let (ih, ihShape) = tensor("lstm.\(l).weight_ih")
            let (hh, _) = tensor("lstm.\(l).weight_hh")
            let (b, _) = tensor("lstm.\(l).bias")
            var hPrev = [Double](repeating: 0, count: h), cPrev = [Double](repeating: 0, count: h)
            var outputs = [[Double]]()
            for x in inputs {
                var z = [Double](repeating: 0, count: 4 * h)
                for r in 0..<(4 * h) {
                    var s = Double(p[b + r])
                    for k in 0..<ihShape[1] { s += Double(p[ih + r * ihShape[1] + k]) * x[k] }
                    for k in 0..<h { s += Double(p[hh + r * h + k]) * hPrev[k] }
                    z[r] = s
                }
                func sig(_ v: Double) -> Double { 1 / (1 + exp(-v)) }
                var hNew = [Double](repeating: 0, count: h), cNew = [Double](repeating: 0, count: h)
                for j in 0..<h {
                    let i = sig(z[j]), f = sig(z[h + j]), g = tanh(z[2 * h + j]), o = sig(z[3 * h + j])
                    cNew[j] = f * cPrev[j] + i * g
                    hNew[j] = o * tanh(cNew[j])
                }
                outputs.append(hNew)
                hPrev = hNew
                cPrev = cNew
            }
            inputs = outputs
        }
        var pooled = [Double](repeating: 0, count: h)
        if !inputs.isEmpty {
            switch model.config.model.pooling {
            case .mean: pooled = (0..<h).map { j in inputs.reduce(0) { $0 + $1[j] } / Double(inputs.count) }
            case .max: pooled = (0..<h).map { j in inputs.map { $0[j] }.max()! }
            case .last: pooled = inputs.last!
            }
        }
        let (w, wShape) = tensor("output.weight")
        let (ob, _) = tensor("output.bias")
        let logits = (0..<wShape[0]).map { c in
            (0..<h).reduce(Double(p[ob + c])) { $0 + Double(p[w + c * h + $1]) * pooled[$1] }
        }
        let m = logits.max()!
        let e = logits.map { exp($0 - m) }
        let sum = e.reduce(0, +)
        return e.map { $0 / sum }
    }

    func testForwardMatchesReferenceLSTM() {
        for (layers, pooling) in [(1, Config.Pooling.last), (2, .last), (2, .mean), (3, .max)] {
            var config = tinyConfig(embedding: 4, hidden: 5, layers: layers)
            config.model.pooling = pooling
            let model = randomModel(config: config, texts: NetworkTests.texts, labels: NetworkTests.labels, seed: 5)
            // Make the weights large enough that every nonlinearity matters.
            for t in model.network.layout.tensors where t.name != "embedding.weight" {
                for k in 0..<t.count { model.parameters.pointer[t.offset + k] *= 2 }
            }
            let got = probabilities(model, NetworkTests.texts)
            for (i, text) in NetworkTests.texts.enumerated() {
                let expected = reference(model, model.encode(text))
                for c in 0..<3 {
                    XCTAssertEqual(Double(got[i * 3 + c]), expected[c], accuracy: 2e-5, "\(layers) layers, \(pooling): \(text.debugDescription)")
                }
            }
        }
    }

    // MARK: padding invariance

    func testPaddingInvariance() {
        for (layers, pooling) in [(1, Config.Pooling.last), (2, .last), (2, .mean), (2, .max)] {
            var config = tinyConfig(embedding: 6, hidden: 7, layers: layers)
            config.model.pooling = pooling
            let model = randomModel(config: config, texts: NetworkTests.texts, labels: NetworkTests.labels, seed: 6)
            let texts = NetworkTests.texts
            let alone = texts.map { probabilities(model, [$0]) }
            func check(_ batch: [Int], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
                let out = probabilities(model, batch.map { texts[$0] })
                for (row, index) in batch.enumerated() {
                    for c in 0..<3 {
                        XCTAssertEqual(out[row * 3 + c], alone[index][c], accuracy: 1e-5,
                                       "\(layers) layers \(pooling), \(what): text \(index) at row \(row)", file: file, line: line)
                    }
                }
            }
            let all = Array(texts.indices)
            check(all, "all")
            check(all.reversed(), "reversed")
            var rng = SeededGenerator(seed: 8)
            for size in [2, 3, 5, 7] {
                for _ in 0..<3 {
                    var order = all
                    rng.shuffle(&order)
                    check(Array(order.prefix(size)), "random \(size)")
                }
            }
            check([1, 1, 1, 3, 3, 5], "duplicates")
            // More texts than one inference group holds (256): several groups.
            let many = (0..<300).map { all[($0 * 7) % all.count] }
            check(many, "300 texts")
            // Several workspaces (threads) share the groups.
            let encoded = many.map { model.encode(texts[$0]) }
            var out = [Float](repeating: .nan, count: many.count * 3)
            out.withUnsafeMutableBufferPointer {
                try! model.outputs(of: encoded, into: $0.baseAddress!, workspaces: [model.network.makeWorkspace(), model.network.makeWorkspace(), model.network.makeWorkspace()])
            }
            for (row, index) in many.enumerated() {
                for c in 0..<3 { XCTAssertEqual(out[row * 3 + c], alone[index][c], accuracy: 1e-5, "3 workspaces, row \(row)") }
            }
            // Every row is a distribution.
            for p in alone {
                XCTAssertEqual(Double(p.reduce(0, +)), 1, accuracy: 1e-5)
                XCTAssertTrue(p.allSatisfy { $0.isFinite && $0 >= 0 })
            }
        }
    }

    func testEmptyTextGivesTheOutputLayersOwnDistribution() {
        let model = randomModel(config: tinyConfig(embedding: 4, hidden: 5), texts: NetworkTests.texts, labels: NetworkTests.labels)
        // An empty text pools to zeros, so its logits are the output bias.
        let ob = model.network.layout.tensor(named: "output.bias")!
        let b = (0..<3).map { Double(model.parameters.pointer[ob.offset + $0]) }
        let sum = b.map(exp).reduce(0, +)
        for text in ["", "   ", "\u{200D}"] {
            let p = probabilities(model, [text])
            for c in 0..<3 { XCTAssertEqual(Double(p[c]), exp(b[c]) / sum, accuracy: 1e-6, text.debugDescription) }
        }
    }

    // MARK: prediction API

    func testPredictionAPI() throws {
        let model = randomModel(config: tinyConfig(embedding: 4, hidden: 5), texts: NetworkTests.texts, labels: NetworkTests.labels)
        let classifier = Model(model: model)
        let texts = NetworkTests.texts
        let probs = try classifier.predictProbabilities(texts)
        XCTAssertEqual(probs.count, texts.count * 3)
        XCTAssertEqual(probs, probabilities(model, texts))
        var into = [Float](repeating: .nan, count: texts.count * 3)
        try into.withUnsafeMutableBufferPointer { try classifier.predictProbabilities(texts, into: $0.baseAddress!) }
        XCTAssertEqual(into, probs)
        XCTAssertEqual(try classifier.predictProbabilities([]), [])

        for k in 1...3 {
            var ids = [Int32](repeating: -1, count: texts.count * k)
            var top = [Float](repeating: .nan, count: texts.count * k)
            try classifier.predictTopK(texts, k: k, labels: &ids, probabilities: &top)
            for i in 0..<texts.count {
                let row = Array(probs[(i * 3)..<(i * 3 + 3)])
                let expected = (0..<3).sorted { row[$0] != row[$1] ? row[$0] > row[$1] : $0 < $1 }
                XCTAssertEqual(ids[(i * k)..<(i * k + k)].map(Int.init), Array(expected.prefix(k)))
                XCTAssertEqual(Array(top[(i * k)..<(i * k + k)]), expected.prefix(k).map { row[$0] })
            }
        }
        var ids = [Int32](repeating: 0, count: 40)
        assertThrowsTextModelError(.invalidArgument) { try classifier.predictTopK(texts, k: 0, labels: &ids, probabilities: nil) }
        assertThrowsTextModelError(.invalidArgument) { try classifier.predictTopK(texts, k: 4, labels: &ids, probabilities: nil) }
        XCTAssertNoThrow(try classifier.predictTopK(texts, k: 2, labels: &ids, probabilities: nil))
    }

    func testConcurrentPredictionFromOneClassifier() throws {
        let model = randomModel(config: tinyConfig(embedding: 4, hidden: 5, layers: 2), texts: NetworkTests.texts,
                                labels: NetworkTests.labels)
        let classifier = Model(model: model)
        let texts = (0..<40).map { NetworkTests.texts[$0 % NetworkTests.texts.count] }
        let expected = try classifier.predictProbabilities(texts)
        let threads = 4
        let results = UnsafeMutablePointer<Float>.allocate(capacity: threads * expected.count)
        defer { results.deallocate() }
        results.initialize(repeating: .nan, count: threads * expected.count)
        Parallel.run(threads) { w in
            for _ in 0..<5 {
                try? classifier.predictProbabilities(texts, into: results + w * expected.count)
            }
        }
        for w in 0..<threads {
            XCTAssertEqual(Array(UnsafeBufferPointer(start: results + w * expected.count, count: expected.count)), expected, "thread \(w)")
        }
    }

    func testUntrainedClassifier() {
        let c = Model(config: Config(modelType: .lstm))
        XCTAssertFalse(c.isTrained)
        XCTAssertEqual(c.labels, [])
        XCTAssertEqual(c.vocabularySize, 0)
        assertThrowsTextModelError(.state) { try c.predictProbabilities(["x"]) }
        var ids = [Int32](repeating: 0, count: 1)
        assertThrowsTextModelError(.state) { try c.predictTopK(["x"], k: 1, labels: &ids, probabilities: nil) }
        var data = LabelledTexts()
        data.append(text: "x", label: "a")
        assertThrowsTextModelError(.state) { try c.evaluate(data) }
    }
}
