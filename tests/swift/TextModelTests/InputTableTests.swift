// The recurrent networks' inference input table (InputProjectionTable): predictions with
// it match those without it to float rounding for every cell, bidirectional and stacked;
// they do not depend on the thread count nor on earlier calls; training never reads it.
import XCTest
@testable import TextModel

final class InputTableTests: XCTestCase {
    private func config(_ type: String, bidirectional: Bool, layers: Int = 1, pooling: String = "max") -> Config {
        var c = tinyConfig(embedding: 6, hidden: 7, layers: layers)
        c.model.type = Config.ModelType(rawValue: type)!
        c.model.bidirectional = bidirectional
        c.model.pooling = SequencePooling(rawValue: pooling)!
        c.model.dropout = 0.5   // configured, but never applied at inference
        return c
    }

    /// The same weights under another table policy.
    private func sibling(_ model: TrainedModel, _ policy: InputTablePolicy) -> TrainedModel {
        TrainedModel(config: model.config, vocabulary: model.vocabulary, labels: model.labels,
                     network: model.network, parameters: model.parameters, inputTable: policy)
    }

    private func outputs(_ model: TrainedModel, _ texts: [String], threads: Int) -> [Float] {
        var out = [Float](repeating: .nan, count: texts.count * model.width)
        try! out.withUnsafeMutableBufferPointer { try model.outputs(of: texts, into: $0.baseAddress!, threads: threads) }
        return out
    }

    /// 600 texts (three inference groups), the test texts among them, empty ones included.
    private var many: [String] { (0..<600).map { NetworkTests.texts[($0 * 7) % NetworkTests.texts.count] } }

    func testTableMatchesThePlainPathAndThreadCountsAgree() {
        let cases: [(String, Bool, Int, String)] = [
            ("lstm", false, 1, "max"), ("gru", false, 1, "max"), ("rnn", false, 1, "mean"),
            ("lstm", true, 1, "max"), ("gru", true, 2, "last"), ("lstm", true, 2, "mean"), ("rnn", true, 1, "last"),
        ]
        for (type, bidirectional, layers, pooling) in cases {
            let what = "\(type) bi \(bidirectional) \(layers) layers \(pooling)"
            let base = randomModel(config: config(type, bidirectional: bidirectional, layers: layers, pooling: pooling),
                                   texts: NetworkTests.texts, labels: NetworkTests.labels, seed: 21)
            let plain = sibling(base, .never), tabled = sibling(base, .always)
            let texts = many
            let expected = outputs(plain, texts, threads: 1)
            let got = outputs(tabled, texts, threads: 1)
            XCTAssertTrue(tabled.hasInputTable, what)
            XCTAssertFalse(plain.hasInputTable, what)
            for k in expected.indices { XCTAssertEqual(got[k], expected[k], accuracy: 1e-5, "\(what): output \(k)") }
            for threads in [2, 3] {
                XCTAssertEqual(outputs(tabled, texts, threads: threads).map(\.bitPattern), got.map(\.bitPattern),
                               "\(what): \(threads) threads with the table")
                XCTAssertEqual(outputs(plain, texts, threads: threads).map(\.bitPattern), expected.map(\.bitPattern),
                               "\(what): \(threads) threads without it")
            }
            // A text alone gives what it gives in the batch.
            let alone = outputs(tabled, [NetworkTests.texts[0]], threads: 1)
            XCTAssertEqual(alone.map(\.bitPattern), Array(got[0..<3]).map(\.bitPattern), what)
        }
    }

    func testAutomaticPolicyUsesTheTableForCallsWithAQuarterOfTheVocabularyInTokens() {
        let model = sibling(randomModel(config: config("lstm", bidirectional: false), texts: NetworkTests.texts,
                                        labels: NetworkTests.labels), .automatic)
        let plain = sibling(model, .never), tabled = sibling(model, .always)
        let quarter = model.vocabulary.count / 4 + 1
        XCTAssertGreaterThan(quarter, 2)
        let small = Array(repeating: "dog", count: quarter - 1), large = Array(repeating: "dog", count: quarter)
        let smallBefore = outputs(model, small, threads: 1)
        XCTAssertFalse(model.hasInputTable, "\(quarter - 1) tokens do not pay for \(model.vocabulary.count) rows")
        XCTAssertEqual(smallBefore.map(\.bitPattern), outputs(plain, small, threads: 1).map(\.bitPattern))
        XCTAssertEqual(outputs(model, large, threads: 2).map(\.bitPattern), outputs(tabled, large, threads: 1).map(\.bitPattern))
        XCTAssertTrue(model.hasInputTable)
        // Small calls still go without it: a call's outputs do not depend on earlier calls.
        XCTAssertEqual(outputs(model, small, threads: 1).map(\.bitPattern), smallBefore.map(\.bitPattern))
    }

    func testTrainingIgnoresTheTable() {
        let model = randomModel(config: config("gru", bidirectional: true), texts: NetworkTests.texts,
                                labels: NetworkTests.labels)
        guard let network = model.network.recurrent,
              let table = network.makeInputTable(model.parameters.pointer, threads: 1) else {
            return XCTFail("no table")
        }
        // Spoil the weights after building: a forward pass that read the table would differ.
        let tabled = network.makeWorkspace(), plain = network.makeWorkspace()
        for ws in [tabled, plain] {
            ws.training = true
            ws.batch.pack(NetworkTests.texts.map { model.encode($0) }.sorted { $0.count > $1.count }.map { $0[...] })
        }
        let ih = network.layout.tensor(named: "gru.0.weight_ih")!
        model.parameters.pointer[ih.offset] += 1
        network.forward(model.parameters.pointer, batch: tabled.batch, workspace: tabled, inputTable: table)
        network.forward(model.parameters.pointer, batch: plain.batch, workspace: plain)
        let count = NetworkTests.texts.count * 3
        XCTAssertEqual(Array(UnsafeBufferPointer(start: network.outputs(tabled), count: count)),
                       Array(UnsafeBufferPointer(start: network.outputs(plain), count: count)))
    }
}
