// Integrated gradients of recurrent networks from their first layer's projections
// (Attribution/ProjectedPath.swift) against the same attributions from interpolated
// embeddings: every cell, stacked and bidirectional, both references and outputs.
import XCTest
@testable import TextModel

final class ExplainProjectedPathTests: XCTestCase {
    private static let texts = ["the pizza was very good", "Goal! the TEAM scored", "soup", "",
                                "we saw a big match and the coach said pasta", "my laptop has a bug today"]

    private func model(_ type: Config.ModelType, layers: Int, bidirectional: Bool, task: Config.Task) -> TrainedModel {
        var config = tinyConfig(embedding: 8, hidden: 6)
        config.model.type = type
        config.model.task = task
        config.model.layers = layers
        config.model.bidirectional = bidirectional
        config.model.pooling = .max
        config.tokenizer.maxLength = 32
        let labels = task == .regression ? [] : ["a", "b", "c"]
        let texts = ExplainProjectedPathTests.texts + KeywordData.make(count: 40, seed: 2).texts
        let tokenizer = Tokenizer(config.tokenizer)
        let vocabulary = Vocabulary.build(from: texts.map(tokenizer.tokenize), minFreq: 1, maxSize: config.tokenizer.maxSize)
        let network = NetworkBuilder.make(config: config, vocabularySize: vocabulary.count, labels: labels.count)
        let parameters = FloatBuffer.zeros(count: network.layout.count)
        var rng = SeededGenerator(seed: 11)
        for k in 0..<network.layout.count { parameters.pointer[k] = rng.uniform(-0.6, 0.6) }
        return TrainedModel(config: config, vocabulary: vocabulary, labels: labels,
                            scaling: task == .regression ? TargetScaling(mean: 1, std: 3) : .identity,
                            network: network, parameters: parameters, inputTable: .never)
    }

    func testProjectedPathGivesTheEmbeddingPathsScores() throws {
        let utf8 = ExplainProjectedPathTests.texts.map { Array($0.utf8) }
        var compared = 0
        for type in [Config.ModelType.lstm, .gru, .rnn] {
            for (layers, bidirectional) in [(1, false), (2, true)] {
                for task in [Config.Task.singleLabel, .regression] {
                    let m = model(type, layers: layers, bidirectional: bidirectional, task: task)
                    for reference in [AttributionReference.padding, .unknown] {
                        for output in [AttributionOutput.probability, .logit] {
                            var options = AttributionOptions()
                            options.steps = 12
                            options.reference = reference
                            options.output = output
                            var slow = Explainer(model: m, options: options)
                            slow.projections = false
                            let fast = try Explainer(model: m, options: options).explain(utf8, threads: 2)
                            let expected = try slow.explain(utf8, threads: 2)
                            for (a, b) in zip(fast, expected) {
                                XCTAssertEqual(a.tokens.count, b.tokens.count)
                                let scale = b.tokens.reduce(Float(1e-3)) { max($0, abs($1.score)) }
                                for (x, y) in zip(a.tokens, b.tokens) {
                                    XCTAssertEqual(x.score, y.score, accuracy: 1e-4 * scale,
                                                   "\(type) \(layers)x\(bidirectional ? 2 : 1) \(task) \(reference) \(output)")
                                    compared += 1
                                }
                                XCTAssertEqual(a.delta, b.delta, accuracy: 1e-4 * Double(scale))
                            }
                        }
                    }
                }
            }
        }
        XCTAssertGreaterThan(compared, 500)
    }
}
