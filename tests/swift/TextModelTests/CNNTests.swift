// The CNN encoder (model.type "cnn"): Conv1D and ReLUMaxOverTime against plain
// references and finite differences, the whole CNNNetwork's gradients (with a fixed
// dropout mask), padding invariance, learning, and the model file round trip.
#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import TextModel

final class CNNTests: XCTestCase {

    // MARK: Conv1D

    /// Conv1D on a batch of `lengths` (some shorter than the kernel, maybe empty):
    /// forward against a direct per-sequence convolution, then dX, dW and db against
    /// finite differences of Σ out ⊙ r.
    private func checkConv1D(lengths: [Int], dim e: Int, width k: Int, filters f: Int, seed: UInt64,
                             file: StaticString = #filePath, line: UInt = #line) {
        var rng = SeededGenerator(seed: seed)
        let batch = PackedBatch()
        batch.pack(lengths.map { ArraySlice([Int32](repeating: 0, count: $0)) })
        let n = batch.totalRows, kE = k * e
        let p = Conv1D.positions(batch: batch, width: k)
        XCTAssertEqual(p, lengths.reduce(0) { $0 + ($1 == 0 ? 0 : max($1 - k + 1, 1)) }, file: file, line: line)
        XCTAssertLessThanOrEqual(p, n, file: file, line: line)
        let x = randomBuffer(n * e, &rng)
        let w = randomBuffer(f * kE, &rng)
        let bias = randomBuffer(f, &rng)
        let r = randomBuffer(p * f, &rng)
        let unfolded = randomBuffer(p * kE, &rng, 50, 60)   // garbage: forward must overwrite it
        let out = randomBuffer(p * f, &rng, 50, 60)
        func loss() -> Double {
            Conv1D.forward(x: x.pointer, dim: e, width: k, filters: f, weight: w.pointer, bias: bias.pointer,
                           batch: batch, unfolded: unfolded.pointer, out: out.pointer)
            return weightedSum(out.pointer, r.pointer, p * f)
        }
        _ = loss()

        // Reference: each sequence alone, zero-padded on the right to at least k tokens.
        var row = 0
        for (b, length) in lengths.enumerated() {
            for position in 0..<Conv1D.positions(length: length, width: k) {
                for filter in 0..<f {
                    var s = Double(bias.pointer[filter])
                    for j in 0..<k where position + j < length {
                        let input = x.pointer + (batch.stepOffsets[position + j] + b) * e
                        for c in 0..<e { s += Double(w.pointer[filter * kE + j * e + c]) * Double(input[c]) }
                    }
                    XCTAssertEqual(Double(out.pointer[row * f + filter]), s, accuracy: 1e-5,
                                   "\(lengths) k=\(k): sequence \(b) position \(position) filter \(filter)", file: file, line: line)
                }
                row += 1
            }
        }
        XCTAssertEqual(row, p, file: file, line: line)

        // Backward accumulates into dW, db and dX: start them from non-zero values.
        let previousW = randomBuffer(f * kE, &rng), previousB = randomBuffer(f, &rng), previousX = randomBuffer(n * e, &rng)
        let dW = copyBuffer(previousW, f * kE), dB = copyBuffer(previousB, f), dX = copyBuffer(previousX, n * e)
        let dUnfolded = randomBuffer(p * kE, &rng, 50, 60)
        Conv1D.backward(dOut: r.pointer, unfolded: unfolded.pointer, dim: e, width: k, filters: f, weight: w.pointer,
                        batch: batch, dWeight: dW.pointer, dBias: dB.pointer, dUnfolded: dUnfolded.pointer, dX: dX.pointer)
        let eps: Float = 1e-2
        var significant = 0
        significant += assertGradientsMatch("conv dX \(lengths) k=\(k)", indices: Array(0..<(n * e)), file: file, line: line,
                                            analytic: { Double(dX.pointer[$0] - previousX.pointer[$0]) },
                                            numeric: { numericDerivative(x.pointer, $0, eps: eps, loss) })
        significant += assertGradientsMatch("conv dW \(lengths) k=\(k)", indices: Array(0..<(f * kE)), file: file, line: line,
                                            analytic: { Double(dW.pointer[$0] - previousW.pointer[$0]) },
                                            numeric: { numericDerivative(w.pointer, $0, eps: eps, loss) })
        significant += assertGradientsMatch("conv db \(lengths) k=\(k)", indices: Array(0..<f), file: file, line: line,
                                            analytic: { Double(dB.pointer[$0] - previousB.pointer[$0]) },
                                            numeric: { numericDerivative(bias.pointer, $0, eps: eps, loss) })
        XCTAssertGreaterThan(significant, (n * e + f * kE + f) / 2, file: file, line: line)
    }

    func testConv1DMixedLengthsIncludingShorterThanKernel() {
        // k = 3: lengths 2 and 1 are shorter than the kernel, two sequences share a length.
        checkConv1D(lengths: [7, 4, 4, 3, 2, 1], dim: 3, width: 3, filters: 4, seed: 51)
    }

    func testConv1DWithAnEmptySequenceAndAWideKernel() {
        // k = 5 is longer than every sequence but the first; the empty one has no positions.
        checkConv1D(lengths: [6, 3, 1, 0], dim: 2, width: 5, filters: 3, seed: 52)
    }

    func testConv1DWidthOne() {
        checkConv1D(lengths: [3, 2, 1], dim: 4, width: 1, filters: 2, seed: 53)
    }

    func testConv1DAllSequencesShorterThanKernel() {
        checkConv1D(lengths: [2, 2, 1], dim: 3, width: 4, filters: 3, seed: 54)
    }

    // MARK: ReLUMaxOverTime

    func testReLUMaxOverTimeForwardAndBackward() {
        let lengths = [6, 4, 2, 1, 0]
        let k = 3, f = 4, stride = 11, column = 5   // written into columns 5..<9 of 11-wide rows
        let batch = PackedBatch()
        batch.pack(lengths.map { ArraySlice([Int32](repeating: 0, count: $0)) })
        let p = Conv1D.positions(batch: batch, width: k)
        var rng = SeededGenerator(seed: 55)
        let conv = randomBuffer(p * f, &rng)
        conv.pointer[f * 0 + 1] = -0.5   // sequence 0, filter 1: every position negative → 0, no gradient
        for r in 1..<4 { conv.pointer[r * f + 1] = -Float(r) }
        let r = randomBuffer(lengths.count * stride, &rng)
        let pooled = randomBuffer(lengths.count * stride, &rng, 50, 60)
        let untouched = copyBuffer(pooled, lengths.count * stride)
        let argmax = IndexBuffer.zeros(count: lengths.count * stride)
        func loss() -> Double {
            ReLUMaxOverTime.forward(conv: conv.pointer, filters: f, width: k, batch: batch, pooled: pooled.pointer,
                                    argmax: argmax.pointer, stride: stride, column: column)
            var s = 0.0
            for b in 0..<lengths.count {
                for j in 0..<f { s += Double(pooled.pointer[b * stride + column + j]) * Double(r.pointer[b * stride + column + j]) }
            }
            return s
        }
        _ = loss()
        var first = 0
        for (b, length) in lengths.enumerated() {
            let count = Conv1D.positions(length: length, width: k)
            for j in 0..<f {
                let values = (first..<(first + count)).map { conv.pointer[$0 * f + j] }
                XCTAssertEqual(pooled.pointer[b * stride + column + j], max(values.max() ?? 0, 0), "b=\(b) j=\(j)")
            }
            for j in 0..<stride where j < column || j >= column + f {   // other columns are left alone
                XCTAssertEqual(pooled.pointer[b * stride + j], untouched.pointer[b * stride + j])
            }
            first += count
        }
        XCTAssertEqual(pooled.pointer[column + 1], 0)
        XCTAssertEqual(argmax.pointer[4 * stride + column], -1, "an empty sequence has no argmax")
        let previous = randomBuffer(p * f, &rng)
        let dConv = copyBuffer(previous, p * f)
        ReLUMaxOverTime.backward(dPooled: r.pointer, conv: conv.pointer, argmax: argmax.pointer, filters: f,
                                 batchSize: lengths.count, stride: stride, column: column, dConv: dConv.pointer)
        let significant = assertGradientsMatch("relu max over time", indices: Array(0..<(p * f)),
                                               analytic: { Double(dConv.pointer[$0] - previous.pointer[$0]) },
                                               numeric: { numericDerivative(conv.pointer, $0, eps: 1e-3, loss) })
        XCTAssertGreaterThanOrEqual(significant, 8)
        for r in 0..<4 { XCTAssertEqual(dConv.pointer[r * f + 1], previous.pointer[r * f + 1]) }
    }

    /// 19 filters (two blocks of 8 and a tail of 3) with values on a coarse grid, so maxima
    /// tie: the pooled values and argmax rows equal the first-maximum scalar definition.
    func testReLUMaxOverTimeEightFiltersAtATimeKeepTheFirstMaximum() {
        let lengths = [9, 7, 7, 3, 1, 0]
        let k = 2, f = 19, stride = 19 + 6, column = 3
        let batch = PackedBatch()
        batch.pack(lengths.map { ArraySlice([Int32](repeating: 0, count: $0)) })
        let p = Conv1D.positions(batch: batch, width: k)
        var rng = SeededGenerator(seed: 56)
        let conv = FloatBuffer.zeros(count: p * f)
        for i in 0..<(p * f) { conv.pointer[i] = Float(Int(rng.uniform(-3, 4))) / 2 }
        let pooled = FloatBuffer.zeros(count: lengths.count * stride)
        let argmax = IndexBuffer.zeros(count: lengths.count * stride)
        ReLUMaxOverTime.forward(conv: conv.pointer, filters: f, width: k, batch: batch, pooled: pooled.pointer,
                                argmax: argmax.pointer, stride: stride, column: column)
        var first = 0
        for (b, length) in lengths.enumerated() {
            let count = Conv1D.positions(length: length, width: k)
            for j in 0..<f {
                var best: Float = count > 0 ? conv.pointer[first * f + j] : 0, at = count > 0 ? first : -1
                for r in first..<(first + count) where conv.pointer[r * f + j] > best {
                    best = conv.pointer[r * f + j]
                    at = r
                }
                XCTAssertEqual(pooled.pointer[b * stride + column + j], max(best, 0), "b=\(b) j=\(j)")
                XCTAssertEqual(Int(argmax.pointer[b * stride + column + j]), at, "b=\(b) j=\(j)")
            }
            first += count
        }
    }

    // MARK: the whole network

    /// Smallest distance of any (sequence, filter) maximum from a kink of ReLU ∘ max:
    /// from 0, and from the runner-up position; with mean pooling, of any convolution
    /// output from ReLU's kink at 0. A finite difference is only valid when its step
    /// moves no convolution output by as much.
    private func kinkMargin(_ network: Network, _ ws: Workspace, pooling: Config.Pooling) -> Float {
        var margin = Float.infinity
        for (i, k) in network.kernelSizes.enumerated() {
            let conv: UnsafeMutablePointer<Float> = network.cnnEncoder.convolutionOutput(ws, width: i)
            var first = 0
            for b in 0..<ws.batch.size {
                let count = Conv1D.positions(length: ws.batch.lengths[b], width: k)
                for f in 0..<network.filters where count > 0 {
                    let v = (first..<(first + count)).map { conv[$0 * network.filters + f] }.sorted(by: >)
                    if pooling == .mean {
                        for value in v { margin = min(margin, abs(value)) }
                        continue
                    }
                    margin = min(margin, abs(v[0]))
                    if v.count > 1 { margin = min(margin, v[0] - v[1]) }
                }
                first += count
            }
        }
        return margin
    }

    /// Cross-entropy gradient of every tensor of a CNNNetwork on one batch. With dropout,
    /// the workspace is in training mode and its generator reseeded before each forward,
    /// so every evaluation of the loss uses the same mask. The seeds are chosen so that
    /// no maximum sits near a kink (checked: a margin of 0.02, while a step of 5e-3 moves
    /// a convolution output by at most 5e-3 times an input, weight or 1, all below 1.5).
    private func checkNetwork(kernelSizes: [Int], dropout: Double, pooling: Config.Pooling = .max, sequences: [[Int32]], targets: [Int32],
                              vocab: Int, classes: Int, seed: UInt64, file: StaticString = #filePath, line: UInt = #line) {
        var model = Config.Model()
        model.type = .cnn
        model.pooling = pooling
        model.embeddingDim = 4
        model.filters = 4
        model.kernelSizes = kernelSizes
        model.dropout = dropout
        let network = Network.make(cnnOf(model), vocabulary: vocab, classes: classes)
        var rng = SeededGenerator(seed: seed)
        let count = network.layout.count
        let params = FloatBuffer.zeros(count: count)
        network.initialize(params.pointer, rng: &rng)
        // Larger embeddings and output weights than the defaults, so the gradients
        // reaching the convolutions and embeddings are clearly non-zero.
        for name in ["embedding.weight", "output.weight"] {
            let t = network.layout.tensor(named: name)!
            for k in 0..<t.count { params.pointer[t.offset + k] *= 4 }
        }
        let ws = network.makeWorkspace()
        ws.training = dropout > 0
        let scale: Float = 1.5
        func loss() -> Double {
            ws.rng = SeededGenerator(seed: 99)
            ws.batch.pack(sequences.map { $0[...] })
            network.forward(params.pointer, batch: ws.batch, workspace: ws)
            return Double(scale) * SoftmaxCrossEntropy.loss(probs: network.outputs(ws), targets: targets, rows: sequences.count, classes: classes)
        }
        _ = loss()
        XCTAssertEqual(network.cnnEncoder.pooling, pooling, file: file, line: line)
        XCTAssertGreaterThan(kinkMargin(network, ws, pooling: pooling), 0.02, "pick another seed: a maximum is near a kink", file: file, line: line)
        if dropout > 0 {
            // The mask really drops something, and scales the survivors.
            let mask = array(network.cnnEncoder.embeddingMask(ws), ws.batch.totalRows * 4)
            XCTAssertTrue(mask.contains(0), file: file, line: line)
            XCTAssertTrue(mask.contains(Float(1 / (1 - dropout))), file: file, line: line)
        }
        let previous = randomBuffer(count, &rng)
        let grads = copyBuffer(previous, count)
        targets.withUnsafeBufferPointer {
            network.backward(params.pointer, batch: ws.batch, targets: $0.baseAddress!, scale: scale, workspace: ws, grads: grads.pointer)
        }
        let used = Set(sequences.joined().map { Int($0) })
        var checked = [String]()
        for t in network.layout.tensors {
            var indices: [Int]
            if t.name == "embedding.weight" {
                let d = t.shape[1]
                indices = used.sorted().flatMap { row in (row * d)..<((row + 1) * d) }
                for row in 0..<t.shape[0] where !used.contains(row) {
                    for j in 0..<d {
                        XCTAssertEqual(grads.pointer[t.offset + row * d + j], previous.pointer[t.offset + row * d + j],
                                       "embedding row \(row) is never used but got a gradient", file: file, line: line)
                    }
                }
            } else {
                indices = sampleIndices(t.count, limit: 150, &rng)
            }
            let significant = assertGradientsMatch("cnn \(kernelSizes) dropout \(dropout) \(t.name)", indices: indices.map { t.offset + $0 },
                                                   file: file, line: line,
                                                   analytic: { Double(grads.pointer[$0] - previous.pointer[$0]) },
                                                   numeric: { numericDerivative(params.pointer, $0, eps: 5e-3, loss) })
            XCTAssertGreaterThan(significant, 0, "\(t.name): no coordinate had a clearly non-zero gradient", file: file, line: line)
            checked.append(t.name)
        }
        let expected = ["embedding.weight"] + kernelSizes.flatMap { ["conv.\($0).weight", "conv.\($0).bias"] } + ["output.weight", "output.bias"]
        XCTAssertEqual(checked, expected, file: file, line: line)
    }

    func testNetworkGradientWithoutDropout() {
        checkNetwork(kernelSizes: [2, 3], dropout: 0, sequences: [[3, 7, 2, 9, 4, 8], [5, 5, 8], [10, 3], [6], []],
                     targets: [0, 2, 1, 1, 2], vocab: 12, classes: 3, seed: 146)
    }

    func testNetworkGradientWithFixedDropoutMask() {
        // Widths 1, 3 and 4; texts of lengths 7, 4, 3, 2 and 1 (shorter than two widths).
        checkNetwork(kernelSizes: [1, 3, 4], dropout: 0.3, sequences: [[3, 7, 2, 9, 4, 8, 1], [5, 5, 8, 11], [10, 3, 6], [2, 9], [6]],
                     targets: [0, 2, 1, 1, 0], vocab: 12, classes: 3, seed: 368)
    }

    // MARK: mean pooling (model.pooling "mean")

    func testReLUMeanOverTimeForwardAndBackward() {
        let lengths = [6, 4, 2, 1, 0]
        let k = 3, f = 4, stride = 11, column = 5   // written into columns 5..<9 of 11-wide rows
        let batch = PackedBatch()
        batch.pack(lengths.map { ArraySlice([Int32](repeating: 0, count: $0)) })
        let p = Conv1D.positions(batch: batch, width: k)
        var rng = SeededGenerator(seed: 56)
        let conv = randomBuffer(p * f, &rng)
        for r in 0..<4 { conv.pointer[r * f + 1] = -0.25 - Float(r) }   // sequence 0, filter 1: all negative → 0, no gradient
        // Keep every value clear of ReLU's kink, so the finite differences are valid.
        for i in 0..<(p * f) where abs(conv.pointer[i]) < 0.05 { conv.pointer[i] = 0.3 }
        let r = randomBuffer(lengths.count * stride, &rng)
        let pooled = randomBuffer(lengths.count * stride, &rng, 50, 60)
        let untouched = copyBuffer(pooled, lengths.count * stride)
        func loss() -> Double {
            ReLUMeanOverTime.forward(conv: conv.pointer, filters: f, width: k, batch: batch, pooled: pooled.pointer,
                                     stride: stride, column: column)
            var s = 0.0
            for b in 0..<lengths.count {
                for j in 0..<f { s += Double(pooled.pointer[b * stride + column + j]) * Double(r.pointer[b * stride + column + j]) }
            }
            return s
        }
        _ = loss()
        var first = 0
        for (b, length) in lengths.enumerated() {
            let count = Conv1D.positions(length: length, width: k)
            for j in 0..<f {
                let values = (first..<(first + count)).map { Double(max(conv.pointer[$0 * f + j], 0)) }
                let mean = count == 0 ? 0 : values.reduce(0, +) / Double(count)
                XCTAssertEqual(Double(pooled.pointer[b * stride + column + j]), mean, accuracy: 1e-6, "b=\(b) j=\(j)")
            }
            for j in 0..<stride where j < column || j >= column + f {   // other columns are left alone
                XCTAssertEqual(pooled.pointer[b * stride + j], untouched.pointer[b * stride + j])
            }
            first += count
        }
        XCTAssertEqual(pooled.pointer[column + 1], 0)
        for j in 0..<f { XCTAssertEqual(pooled.pointer[4 * stride + column + j], 0, "an empty sequence pools to 0") }
        let previous = randomBuffer(p * f, &rng)
        let dConv = copyBuffer(previous, p * f)
        ReLUMeanOverTime.backward(dPooled: r.pointer, conv: conv.pointer, filters: f, width: k, batch: batch,
                                  stride: stride, column: column, dConv: dConv.pointer)
        let significant = assertGradientsMatch("relu mean over time", indices: Array(0..<(p * f)),
                                               analytic: { Double(dConv.pointer[$0] - previous.pointer[$0]) },
                                               numeric: { numericDerivative(conv.pointer, $0, eps: 1e-3, loss) })
        XCTAssertGreaterThanOrEqual(significant, 8)
        for r in 0..<4 { XCTAssertEqual(dConv.pointer[r * f + 1], previous.pointer[r * f + 1]) }
    }

    // Seeds chosen so that every convolution output is at least 0.02 from ReLU's kink
    // (kinkMargin checks it).
    func testMeanPoolingNetworkGradientWithoutDropout() {
        checkNetwork(kernelSizes: [2, 3], dropout: 0, pooling: .mean, sequences: [[3, 7, 2, 9, 4, 8], [5, 5, 8], [10, 3], [6], []],
                     targets: [0, 2, 1, 1, 2], vocab: 12, classes: 3, seed: 15)
    }

    func testMeanPoolingNetworkGradientWithFixedDropoutMask() {
        checkNetwork(kernelSizes: [1, 3, 4], dropout: 0.3, pooling: .mean, sequences: [[3, 7, 2, 9, 4, 8, 1], [5, 5, 8, 11], [10, 3, 6], [2, 9], [6]],
                     targets: [0, 2, 1, 1, 0], vocab: 12, classes: 3, seed: 1111)
    }

    /// model.pooling for a CNN: "max" (the classifiers' default) or "mean" (the
    /// regressor's, TaskDefaults); "last" is refused; a given value beats the task default.
    func testCNNPoolingConfig() throws {
        XCTAssertEqual(try Config(json: #"{"model": {"type": "cnn"}}"#).model.pooling, .max)
        XCTAssertEqual(try Config(json: #"{"model": {"type": "cnn", "task": "multi_label"}}"#).model.pooling, .max)
        XCTAssertEqual(try Config(json: #"{"model": {"type": "cnn", "task": "regression"}}"#).model.pooling, .mean)
        XCTAssertEqual(try Config(json: #"{"model": {"type": "cnn", "task": "regression", "pooling": "max"}}"#).model.pooling, .max)
        XCTAssertEqual(try Config(json: #"{"model": {"type": "cnn", "pooling": "mean"}}"#).model.pooling, .mean)
        // Other types keep their pooling default for regression.
        XCTAssertEqual(try Config(json: #"{"model": {"type": "lstm", "task": "regression"}}"#).model.pooling, .max)
        assertThrowsTextModelError(.config, mentioning: ["model.pooling", "\"last\"", "cnn", "\"max\"", "\"mean\""]) {
            try Config(json: #"{"model": {"type": "cnn", "pooling": "last"}}"#)
        }
        let c = try Config(json: #"{"model": {"type": "cnn", "task": "regression"}}"#)
        XCTAssertEqual((NetworkBuilder.make(config: c, vocabularySize: 20, classes: 1).encoder as? CNNEncoder)?.pooling, .mean)
    }

    /// A mean-pooled CNN regressor learns a sum of per-word weights, predicts a text the
    /// same alone and in a batch, and its file keeps the pooling.
    func testMeanPooledCNNRegressorLearnsASumAndRoundTrips() throws {
        var config = try Config(json: #"{"model": {"type": "cnn", "task": "regression", "embedding_dim": 16, "filters": 16, "kernel_sizes": [1, 2]}, "tokenizer": {"min_freq": 1}, "training": {"learning_rate": 0.01, "batch_size": 16, "epochs": 8, "threads": 1}}"#)
        XCTAssertEqual(config.model.pooling, .mean)
        config.training.seed = 3
        let model = Model(config: config)
        try model.train(DivergenceTests.wordWeightData(count: 1500, seed: 1))
        let test = DivergenceTests.wordWeightData(count: 300, seed: 2)
        guard case .regression(let m) = try model.evaluate(test) else { return XCTFail("regression metrics") }
        XCTAssertGreaterThanOrEqual(m.r2, 0.8)
        let texts = Array(test.texts.prefix(12))
        let batched = try model.predictValues(texts)
        for (i, text) in texts.enumerated() {
            XCTAssertEqual(try model.predictValues([text])[0], batched[i], accuracy: 1e-4, "text \(i) alone and in a batch")
        }
        let dir = ScratchDirectory()
        try model.save(to: dir.file("cnn-mean.safetensors"))
        let loaded = try Model.load(from: dir.file("cnn-mean.safetensors"))
        XCTAssertEqual(loaded.config.model.pooling, .mean)
        XCTAssertEqual(try loaded.predictValues(texts), batched)
    }

    func testLayoutNamesAndRepeatedWidths() {
        var model = Config.Model()
        model.embeddingDim = 3
        model.filters = 2
        model.kernelSizes = [3, 4, 5]
        let network = Network.make(cnnOf(model), vocabulary: 10, classes: 4)
        XCTAssertEqual(network.layout.tensors.map(\.name),
                       ["embedding.weight", "conv.3.weight", "conv.3.bias", "conv.4.weight", "conv.4.bias",
                        "conv.5.weight", "conv.5.bias", "output.weight", "output.bias"])
        XCTAssertEqual(network.layout.tensor(named: "conv.4.weight")?.shape, [2, 12])
        XCTAssertEqual(network.layout.tensor(named: "output.weight")?.shape, [4, 6])
        model.kernelSizes = [2, 2, 3, 2]
        let repeated = Network.make(cnnOf(model), vocabulary: 10, classes: 4)
        let names = repeated.layout.tensors.map(\.name)
        XCTAssertEqual(Set(names).count, names.count, "tensor names are unique")
        XCTAssertEqual(Array(names[1..<9]), ["conv.2.weight", "conv.2.bias", "conv.2_2.weight", "conv.2_2.bias",
                                             "conv.3.weight", "conv.3.bias", "conv.2_3.weight", "conv.2_3.bias"])
    }

    func testInitialisationBounds() {
        var model = Config.Model()
        model.embeddingDim = 6
        model.filters = 7
        model.kernelSizes = [2, 5]
        let network = Network.make(cnnOf(model), vocabulary: 200, classes: 3)
        let params = FloatBuffer.zeros(count: network.layout.count)
        var rng = SeededGenerator(seed: 1)
        network.initialize(params.pointer, rng: &rng)
        for t in network.layout.tensors {
            let values = array(params.pointer + t.offset, t.count)
            XCTAssertTrue(values.allSatisfy(\.isFinite), t.name)
            switch t.name {
            case "embedding.weight":   // U(-0.25, 0.25)
                XCTAssertTrue(values.allSatisfy { abs($0) <= 0.25 })
                XCTAssertGreaterThan(values.map(abs).max() ?? 0, 0.2)
                XCTAssertEqual(values.reduce(0, +) / Float(values.count), 0, accuracy: 0.03)
            default:
                let fanIn = t.name.hasPrefix("conv.2") ? 12 : t.name.hasPrefix("conv.5") ? 30 : 14
                let bound = 1 / Float(fanIn).squareRoot()
                XCTAssertTrue(values.allSatisfy { abs($0) <= bound }, t.name)
                if t.count >= 10 { XCTAssertGreaterThan(values.map(abs).max() ?? 0, bound / 2, t.name) }
            }
        }
    }

    // MARK: padding invariance

    private static let texts = [
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

    private func cnnConfig() -> Config {
        var c = tinyConfig(embedding: 6)
        c.model.type = .cnn
        c.model.filters = 5
        c.model.kernelSizes = [2, 3, 5]
        c.model.dropout = 0.5
        return c
    }

    /// An untrained, randomly initialised CNN model over `texts`' vocabulary.
    private func randomCNNModel(config: Config, texts: [String], labels: [String], seed: UInt64) -> TrainedModel {
        let tokenizer = Tokenizer(config.tokenizer)
        let vocabulary = Vocabulary.build(from: texts.map(tokenizer.tokenize), minFreq: 1, maxSize: config.tokenizer.maxSize)
        let network = NetworkBuilder.make(config: config, vocabularySize: vocabulary.count, classes: labels.count)
        XCTAssertTrue(network.encoder is CNNEncoder)
        let parameters = FloatBuffer.zeros(count: network.layout.count)
        var rng = SeededGenerator(seed: seed)
        network.initialize(parameters.pointer, rng: &rng)
        return TrainedModel(config: config, vocabulary: vocabulary, labels: labels, network: network, parameters: parameters)
    }

    func testPaddingInvariance() {
        let texts = CNNTests.texts
        let model = randomCNNModel(config: cnnConfig(), texts: texts, labels: ["x", "y", "z"], seed: 6)
        let alone = texts.map { probabilities(model, [$0]) }
        func check(_ batch: [Int], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
            let out = probabilities(model, batch.map { texts[$0] })
            for (row, index) in batch.enumerated() {
                for c in 0..<3 {
                    XCTAssertEqual(out[row * 3 + c], alone[index][c], accuracy: 1e-5,
                                   "\(what): text \(index) at row \(row)", file: file, line: line)
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
        let many = (0..<300).map { all[($0 * 7) % all.count] }
        check(many, "300 texts")
        let encoded = many.map { model.encode(texts[$0]) }
        var out = [Float](repeating: .nan, count: many.count * 3)
        out.withUnsafeMutableBufferPointer {
            try! model.outputs(of: encoded, into: $0.baseAddress!, workspaces: [model.network.makeWorkspace(), model.network.makeWorkspace(), model.network.makeWorkspace()])
        }
        for (row, index) in many.enumerated() {
            for c in 0..<3 { XCTAssertEqual(out[row * 3 + c], alone[index][c], accuracy: 1e-5, "3 workspaces, row \(row)") }
        }
        for p in alone {
            XCTAssertEqual(Double(p.reduce(0, +)), 1, accuracy: 1e-5)
            XCTAssertTrue(p.allSatisfy { $0.isFinite && $0 >= 0 })
        }
        // Texts differ: the encoder is not ignoring its input.
        XCTAssertNotEqual(alone[0], alone[1])
        // An empty text pools to zeros: its logits are the output bias.
        let ob = model.network.layout.tensor(named: "output.bias")!
        let bias = (0..<3).map { Double(model.parameters.pointer[ob.offset + $0]) }
        let sum = bias.map(exp).reduce(0, +)
        for c in 0..<3 { XCTAssertEqual(Double(alone[5][c]), exp(bias[c]) / sum, accuracy: 1e-6) }
    }

    func testDropoutOnlyWhileTraining() {
        let texts = CNNTests.texts
        let model = randomCNNModel(config: cnnConfig(), texts: texts, labels: ["x", "y", "z"], seed: 7)
        let network = model.network
        let ws = network.makeWorkspace()
        let encoded = texts.map(model.encode).sorted { $0.count > $1.count }
        func run(training: Bool, seed: UInt64) -> [Float] {
            ws.training = training
            ws.rng = SeededGenerator(seed: seed)
            ws.batch.pack(encoded.map { $0[...] })
            model.network.forward(model.parameters.pointer, batch: ws.batch, workspace: ws)
            return array(network.outputs(ws), texts.count * 3)
        }
        let inference = run(training: false, seed: 1)
        XCTAssertEqual(run(training: false, seed: 2), inference, "no randomness at inference")
        let a = run(training: true, seed: 1)
        XCTAssertEqual(run(training: true, seed: 1), a, "a seed fixes the mask")
        XCTAssertNotEqual(a, inference)
        XCTAssertNotEqual(run(training: true, seed: 2), a)
    }

    // MARK: training and the model file

    func testCNNLearnsKeywordsAndRoundTrips() throws {
        var config = Config(modelType: .lstm)
        config.model.type = .cnn
        config.tokenizer.minFreq = 1
        config.model.embeddingDim = 16
        config.model.filters = 8
        config.model.kernelSizes = [1, 2, 3]
        config.model.dropout = 0.2
        config.training.learningRate = 0.01
        config.training.batchSize = 16
        config.training.epochs = 5
        config.training.threads = 2
        let (train, test) = (KeywordData.make(count: 300, seed: 1), KeywordData.make(count: 90, seed: 2))
        let classifier = Model(config: config)
        try classifier.train(train)
        XCTAssertGreaterThanOrEqual(try classifier.evaluate(test).accuracy ?? -1, 0.9)

        let dir = ScratchDirectory()
        try classifier.save(to: dir.file("cnn.safetensors"))
        let loaded = try Model.load(from: dir.file("cnn.safetensors"))
        XCTAssertEqual(try loaded.predictProbabilities(test.texts), try classifier.predictProbabilities(test.texts))
        XCTAssertEqual(try loaded.evaluate(test).accuracy ?? -1, try classifier.evaluate(test).accuracy)
    }

    func testRepeatedWidthsRoundTrip() throws {
        var config = cnnConfig()
        config.model.kernelSizes = [2, 2]
        config.training.epochs = 1
        let classifier = Model(config: config)
        try classifier.train(KeywordData.make(count: 40, seed: 3))
        let dir = ScratchDirectory()
        try classifier.save(to: dir.file("cnn.safetensors"))
        let loaded = try Model.load(from: dir.file("cnn.safetensors"))
        let texts = KeywordData.make(count: 10, seed: 4).texts
        XCTAssertEqual(try loaded.predictProbabilities(texts), try classifier.predictProbabilities(texts))
    }

    func testConfigAcceptsCNN() throws {
        XCTAssertTrue(Config.ModelType.allCases.map(\.rawValue).contains("cnn"))
        let c = try Config(json: #"{"model": {"type": "cnn", "kernel_sizes": [2, 3], "filters": 16, "dropout": 0.5}}"#)
        XCTAssertEqual(c.model.type, .cnn)
        XCTAssertEqual(c.model.kernelSizes, [2, 3])
        XCTAssertEqual(c.model.filters, 16)
        XCTAssertTrue(NetworkBuilder.make(config: c, vocabularySize: 20, classes: 2).encoder is CNNEncoder)
        XCTAssertThrowsError(try Config(json: #"{"model": {"type": "cnn", "kernel_sizes": []}}"#))
        XCTAssertThrowsError(try Config(json: #"{"model": {"type": "cnn", "kernel_sizes": [0]}}"#))
        XCTAssertThrowsError(try Config(json: #"{"model": {"type": "cnn", "bidirectional": true}}"#))
    }
}
