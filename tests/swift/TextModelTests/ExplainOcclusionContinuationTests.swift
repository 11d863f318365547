// Occlusion of one-direction LSTMs from the states before each window
// (Attribution/OcclusionContinuation.swift) against every variant run whole.
import XCTest
@testable import TextModel

final class ExplainOcclusionContinuationTests: XCTestCase {
    private static let texts = ["the pizza was very good", "Goal! the TEAM scored", "soup", "",
                                "we saw a big match and the coach said pasta", "my laptop has a bug today", "a b"]

    private func model(layers: Int, pooling: SequencePooling, task: Config.Task) -> TrainedModel {
        var config = tinyConfig(embedding: 8, hidden: 6)
        config.model.type = .lstm
        config.model.task = task
        config.model.layers = layers
        config.model.pooling = pooling
        config.tokenizer.maxLength = 32
        let labels = task == .regression ? [] : ["a", "b", "c"]
        let texts = ExplainOcclusionContinuationTests.texts + KeywordData.make(count: 40, seed: 4).texts
        let tokenizer = Tokenizer(config.tokenizer)
        let vocabulary = Vocabulary.build(from: texts.map(tokenizer.tokenize), minFreq: 1, maxSize: config.tokenizer.maxSize)
        let network = NetworkBuilder.make(config: config, vocabularySize: vocabulary.count, labels: labels.count)
        let parameters = FloatBuffer.zeros(count: network.layout.count)
        var rng = SeededGenerator(seed: 5)
        for k in 0..<network.layout.count { parameters.pointer[k] = rng.uniform(-0.8, 0.8) }
        return TrainedModel(config: config, vocabulary: vocabulary, labels: labels,
                            scaling: task == .regression ? TargetScaling(mean: 1, std: 3) : .identity,
                            network: network, parameters: parameters, inputTable: .always)
    }

    func testContinuedOcclusionGivesTheWholeVariantsDrops() throws {
        let utf8 = ExplainOcclusionContinuationTests.texts.map { Array($0.utf8) }
        var compared = 0, nonzero = 0
        for layers in [1, 2] {
            for pooling in SequencePooling.allCases {
                for task in [Config.Task.singleLabel, .regression] {
                    let m = model(layers: layers, pooling: pooling, task: task)
                    for window in [1, 2, 3] {
                        var options = AttributionOptions()
                        options.method = .occlusion
                        options.reference = .unknown
                        options.window = window
                        var whole = Explainer(model: m, options: options)
                        whole.continuation = false
                        let fast = try Explainer(model: m, options: options).explain(utf8, threads: 2)
                        let expected = try whole.explain(utf8, threads: 1)
                        for (a, b) in zip(fast, expected) {
                            XCTAssertEqual(a.tokens.count, b.tokens.count)
                            for (x, y) in zip(a.tokens, b.tokens) {
                                XCTAssertEqual(x.score, y.score, accuracy: 1e-5 * max(1, abs(y.score)),
                                               "\(layers) layers, \(pooling), \(task), window \(window)")
                                compared += 1
                                if y.score != 0 { nonzero += 1 }
                            }
                        }
                    }
                }
            }
        }
        XCTAssertGreaterThan(compared, 500)
        XCTAssertGreaterThan(nonzero, compared / 2)
    }
}
