// The Transformer encoder on the engine's seams: whole-network gradients against finite
// differences (with and without dropout), results independent of batch composition and
// threads; and, for every encoder, the input-embedding gradient with parameter gradients
// switched off (what attributions need), and steps and repeated predictions that
// allocate no activations.
import XCTest
@testable import TextModel

final class TransformerTests: XCTestCase {
    /// D 8, 2 heads, feed-forward 12, 2 blocks, 8 positions.
    private func transformer(vocab: Int, classes: Int, dropout: Double = 0, task: Config.Task = .singleLabel) -> Network {
        Network(input: .embedding, rows: vocab, embeddingDim: 8, classes: classes, task: task) { layout, plan in
            TransformerEncoder(inputDim: 8, heads: 2, blocks: 2, feedForwardDim: 12, maxLength: 8, dropout: dropout,
                               layout: &layout, plan: &plan)
        }
    }

    private let sequences: [[Int32]] = [[3, 7, 2, 9, 4, 2], [5, 5, 8], [10, 3, 1], [6], [11], []]
    private let targets: [Int32] = [0, 2, 1, 1, 0, 2]

    private func checkGradients(_ network: Network, dropout: Bool, seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        let count = network.layout.count
        let params = FloatBuffer.zeros(count: count)
        network.initialize(params.pointer, rng: &rng)
        // Nudge the LayerNorm gains and biases off 1 and 0, so their gradients are checked
        // at a general point.
        for t in network.layout.tensors where t.name.contains("norm") {
            for k in 0..<t.count { params.pointer[t.offset + k] += rng.uniform(-0.3, 0.3) }
        }
        let ws = network.makeWorkspace()
        let scale: Float = 1.5
        func loss() -> Double {
            ws.training = dropout
            ws.rng = SeededGenerator(seed: 99)
            ws.batch.pack(sequences.map { $0[...] })
            network.forward(params.pointer, batch: ws.batch, workspace: ws)
            return Double(scale) * SoftmaxCrossEntropy.loss(probs: network.outputs(ws), targets: targets, rows: sequences.count, classes: 3)
        }
        let first = loss()
        XCTAssertEqual(loss(), first, "a fixed seed fixes the dropout masks")
        if dropout {
            ws.training = false
            network.forward(params.pointer, batch: ws.batch, workspace: ws)
            let plain = Double(scale) * SoftmaxCrossEntropy.loss(probs: network.outputs(ws), targets: targets, rows: 6, classes: 3)
            XCTAssertNotEqual(plain, first, "dropout must change the training forward pass")
        }
        _ = loss()
        let previous = randomBuffer(count, &rng)
        let grads = copyBuffer(previous, count)
        targets.withUnsafeBufferPointer {
            network.backward(params.pointer, batch: ws.batch, targets: $0.baseAddress!, scale: scale, workspace: ws, grads: grads.pointer)
        }
        let used = Set(sequences.joined().map { Int($0) })
        for t in network.layout.tensors {
            var indices: [Int]
            if t.name == "embedding.weight" {
                indices = used.sorted().flatMap { row in (row * 8)..<((row + 1) * 8) }
            } else if t.name == "transformer.position" {
                indices = Array(0..<(6 * 8))   // positions 0-5 are used; 6 and 7 are not
                for k in (6 * 8)..<t.count {
                    XCTAssertEqual(grads.pointer[t.offset + k], previous.pointer[t.offset + k], "unused position \(k / 8) got a gradient")
                }
            } else {
                indices = sampleIndices(t.count, limit: 60, &rng)
            }
            let significant = assertGradientsMatch("transformer \(dropout ? "dropout" : "plain"): \(t.name)",
                                                   indices: indices.map { t.offset + $0 },
                                                   analytic: { Double(grads.pointer[$0] - previous.pointer[$0]) },
                                                   numeric: { numericDerivative(params.pointer, $0, eps: 1e-2, loss) })
            XCTAssertGreaterThan(significant, 0, "\(t.name): no coordinate had a clearly non-zero gradient")
        }
    }

    func testTransformerGradientsMatchFiniteDifferences() {
        checkGradients(transformer(vocab: 13, classes: 3), dropout: false, seed: 5)
    }

    func testTransformerGradientsMatchFiniteDifferencesWithDropout() {
        checkGradients(transformer(vocab: 13, classes: 3, dropout: 0.2), dropout: true, seed: 6)
    }

    func testTensorNamesAndShapes() {
        let names = transformer(vocab: 13, classes: 3).layout.tensors.map { "\($0.name) \($0.shape)" }
        XCTAssertEqual(names.first, "embedding.weight [13, 8]")
        XCTAssertEqual(names[1], "transformer.position [8, 8]")
        XCTAssertTrue(names.contains("transformer.1.attention.in_proj.weight [24, 8]"))
        XCTAssertTrue(names.contains("transformer.0.ff1.weight [12, 8]"))
        XCTAssertTrue(names.contains("transformer.0.ff2.weight [8, 12]"))
        XCTAssertEqual(Array(names.suffix(4)), ["transformer.norm.weight [8]", "transformer.norm.bias [8]",
                                                "output.weight [3, 8]", "output.bias [3]"])
    }

    /// A text's outputs alone equal its outputs in batches of other, longer and shorter
    /// texts (to float rounding of the shared matrix products), and any number of
    /// workspaces gives the same bits.
    func testResultsDoNotDependOnBatchCompositionOrThreads() throws {
        let network = transformer(vocab: 13, classes: 3)
        let params = FloatBuffer.zeros(count: network.layout.count)
        var rng = SeededGenerator(seed: 8)
        network.initialize(params.pointer, rng: &rng)
        let inference = BatchInference(network: network, parameters: params.pointer)
        var texts = [[Int32]]()
        for i in 0..<600 { texts.append((0..<(i % 9)).map { Int32((i * 5 + $0 * 3) % 13) }) }
        func run(_ texts: [[Int32]], workspaces: Int) throws -> [Float] {
            var out = [Float](repeating: .nan, count: texts.count * 3)
            try out.withUnsafeMutableBufferPointer {
                try inference.outputs(of: EncodedTexts(texts), into: $0.baseAddress!,
                                      workspaces: (0..<workspaces).map { _ in network.makeWorkspace() })
            }
            return out
        }
        let together = try run(texts, workspaces: 1)
        XCTAssertEqual(try run(texts, workspaces: 3), together, "3 workspaces give the same bits")
        for i in [0, 1, 5, 8, 300, 599] {
            let alone = try run([texts[i]], workspaces: 1)
            for k in 0..<3 { XCTAssertEqual(alone[k], together[i * 3 + k], accuracy: 1e-5, "text \(i)") }
        }
    }

    // MARK: every encoder

    private func networks() -> [(String, Network)] {
        var bag = Config(modelType: .bag); bag.model.embeddingDim = 8
        var cnn = Config(modelType: .cnn); cnn.model.embeddingDim = 8; cnn.model.filters = 4; cnn.model.kernelSizes = [2, 3]
        var lstm = Config(modelType: .lstm); lstm.model.embeddingDim = 8; lstm.model.hiddenDim = 5
        lstm.model.bidirectional = true; lstm.model.layers = 2; lstm.model.pooling = .mean
        var gru = Config(modelType: .gru); gru.model.embeddingDim = 8; gru.model.hiddenDim = 5; gru.model.pooling = .last
        return [("bag", Network.make(bag, vocabulary: 13, classes: 3)), ("cnn", Network.make(cnn, vocabulary: 13, classes: 3)),
                ("lstm", Network.make(lstm, vocabulary: 13, classes: 3)), ("gru", Network.make(gru, vocabulary: 13, classes: 3)),
                ("transformer", transformer(vocab: 13, classes: 3))]
    }

    /// backwardFromLogits with parameter gradients off returns the gradient of the loss
    /// with respect to the input embeddings, checked against finite differences of a
    /// forward pass run from those embeddings; and from ids or from the same embeddings
    /// the forward pass gives the same outputs.
    func testInputEmbeddingGradientWithParameterGradientsOff() {
        let sequences: [[Int32]] = [[3, 7, 2, 9, 4], [5, 8, 1], [10, 6]], targets: [Int32] = [0, 2, 1]
        for (name, network) in networks() {
            let params = FloatBuffer.zeros(count: network.layout.count)
            var rng = SeededGenerator(seed: 21)
            network.initialize(params.pointer, rng: &rng)
            for t in network.layout.tensors where t.name != "embedding.weight" {
                for k in 0..<t.count { params.pointer[t.offset + k] += rng.uniform(-0.3, 0.3) }
            }
            let ws = network.makeWorkspace()
            ws.batch.pack(sequences.map { $0[...] })
            try! ws.prepareForBatch()
            let n = ws.batch.totalRows, e = network.input.dim
            // The embeddings the ids look up, in packed order.
            let embeddings = FloatBuffer.zeros(count: n * e)
            for r in 0..<n {
                let row = params.pointer + network.embeddingTensor.offset + Int(ws.batch.tokens[r]) * e
                (embeddings.pointer + r * e).update(from: row, count: e)
            }
            network.forward(params.pointer, workspace: ws)
            let fromIDs = array(network.outputs(ws), 9)
            network.forward(params.pointer, workspace: ws, embeddings: embeddings.pointer)
            let fromEmbeddings = array(network.outputs(ws), 9)
            for k in 0..<9 { XCTAssertEqual(fromIDs[k], fromEmbeddings[k], accuracy: 1e-6, "\(name): output \(k)") }

            func value() -> Double {
                targets.withUnsafeBufferPointer { t in
                    network.forward(params.pointer, workspace: ws, embeddings: embeddings.pointer)
                    return network.loss.loss(outputs: network.outputs(ws), rows: 3, width: 3, targets: LossTargets(targets: t.baseAddress))
                }
            }
            _ = value()
            targets.withUnsafeBufferPointer { t in
                network.loss.backward(outputs: network.outputs(ws), rows: 3, width: 3, targets: LossTargets(targets: t.baseAddress),
                                      dLogits: network.logitGradient(ws))
            }
            let paramsBefore = array(params.pointer, network.layout.count)
            let dEmbedded = array(network.backwardFromLogits(params.pointer, workspace: ws, grads: nil), n * e)
            XCTAssertEqual(array(params.pointer, network.layout.count), paramsBefore, "\(name): the weights stay as they were")
            // CNN: ReLU ∘ max has kinks; a small step keeps clear of them on this batch.
            let eps: Float = name == "cnn" ? 1e-3 : 1e-2
            let significant = assertGradientsMatch("\(name): dEmbedded", indices: Array(0..<(n * e)), tolerance: name == "cnn" ? 3e-2 : 1e-2,
                                                   analytic: { Double(dEmbedded[$0]) },
                                                   numeric: { numericDerivative(embeddings.pointer, $0, eps: eps, value) })
            XCTAssertGreaterThan(significant, n, "\(name): the input gradient is mostly zero")
        }
    }

    /// Once the workspaces are prepared, training steps and repeated prediction calls of
    /// the same shape allocate no activation buffers.
    func testStepsAndRepeatedPredictionsAllocateNoActivations() throws {
        // lstm and gru run the packed AVX-512 recurrent kernel where the CPU has it.
        for type in ["lstm", "gru", "cnn", "bag", "transformer"] {
            var c = Config(modelType: Config.ModelType(rawValue: type)!)
            c.tokenizer.minFreq = 1
            c.model.embeddingDim = 8
            c.model.hiddenDim = 6
            c.model.filters = 4
            c.model.heads = 2
            c.tokenizer.maxLength = 16
            c.training.threads = 2
            c.training.batchSize = 16
            c.training.optimizer = .adam
            let data = KeywordData.make(count: 120, seed: 3)
            let set = try TrainingSet(config: c, data: data, validation: nil)
            let network = NetworkBuilder.make(config: c, vocabularySize: set.vocabulary.count, classes: set.width)
            let workspaces = (0..<2).map { _ in network.makeWorkspace() }
            let shard = DataParallelStep.shardShape(batchSize: 16, threads: 2, longest: set.examples.longest)
            for ws in workspaces { try ws.prepare(for: shard) }
            var step = try DataParallelStep(config: c, network: network, set: set, classWeights: [1, 1, 1], workspaces: workspaces)
            let parameters = FloatBuffer.zeros(count: network.layout.count)
            var rng = SeededGenerator(seed: 1)
            network.initialize(parameters.pointer, rng: &rng)
            var state = TrainingState(parameters: parameters, optimizer: try makeOptimizer(c.training, count: network.layout.count),
                                      rng: rng, totalSteps: 8,
                                      schedule: LearningRateSchedule(config: c.training, totalSteps: 8, stepsPerEpoch: 8))
            let before = Workspace.allocationCount
            for k in 0..<8 {
                _ = try step.run(Array(Int32(0)..<120)[(k * 13)..<(k * 13 + 16)], epoch: 1, state: &state) { _, _ in false }
            }
            XCTAssertEqual(Workspace.allocationCount, before, "\(type): training steps allocated activations")
            XCTAssertEqual(state.step, 8)

            let model = Model(model: TrainedModel(config: c, vocabulary: set.vocabulary, labels: set.labels,
                                                           network: network, parameters: parameters))
            let texts = KeywordData.make(count: 700, seed: 4).texts
            _ = try model.predictProbabilities(texts)
            let afterFirst = Workspace.allocationCount
            XCTAssertGreaterThan(afterFirst, before, "\(type): the first prediction call prepares its workspaces")
            _ = try model.predictProbabilities(texts)
            _ = try model.predictProbabilities(Array(texts.prefix(300)))
            XCTAssertEqual(Workspace.allocationCount, afterFirst, "\(type): a repeated prediction call allocated activations")
        }
    }

    /// A bag text's encoded ids (words, bigrams, character n-grams) outnumber its tokens,
    /// so tokenizer.max_length does not bound a shard's rows: data-parallel bag training
    /// with long texts must size its workspaces by the encoded set (it once used
    /// max_length, and ran past the buffers; now a shard that did not fit is an error).
    func testDataParallelBagShardsFitTheirWorkspaces() throws {
        var c = Config(modelType: .bag)
        c.tokenizer.maxLength = 6
        c.tokenizer.buckets = 1000
        c.model.embeddingDim = 8
        c.training.batchSize = 8
        c.training.threads = 2
        c.training.epochs = 2
        let data = KeywordData.make(count: 64, seed: 5)
        XCTAssertNoThrow(try Model(config: c).train(data))
    }

    /// The plan's bytes are what the workspace allocates, and grow with the shape.
    func testPlanBytesMatchWhatAWorkspaceHolds() throws {
        let network = transformer(vocab: 13, classes: 3, dropout: 0.1)
        let small = BatchShape.bound(texts: 4, longest: 5), large = BatchShape.bound(texts: 64, longest: 64)
        XCTAssertLessThan(network.activationBytes(small), network.activationBytes(large))
        XCTAssertEqual(network.activationBytes(BatchShape(rows: Int.max / 2, texts: 4, longest: 64)), Int.max,
                       "an overflowing plan says so instead of wrapping")
        let ws = network.makeWorkspace()
        XCTAssertThrowsError(try ws.prepare(for: BatchShape(rows: Int.max / 2, texts: 4, longest: 64))) { error in
            XCTAssertEqual((error as? TextModelError)?.kind, .resource)
        }
        try ws.prepare(for: small)
        XCTAssertEqual(ws.shape, small)
    }
}
