// The recurrent encoders beyond the plain LSTM: GRU and Elman RNN layers (finite-difference
// checks and the defining equations), bidirectional and stacked networks of all three
// cells (gradients with dropout on, a Double reference forward pass, padding
// invariance), dropout only while training, learning, and saving.
#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import TextModel

final class RecurrentTests: XCTestCase {

    // MARK: GRULayer

    private func checkGRULayer(lengths: [Int], inputDim i: Int, hiddenDim h: Int, seed: UInt64,
                               file: StaticString = #filePath, line: UInt = #line) {
        var rng = SeededGenerator(seed: seed)
        let batch = PackedBatch()
        batch.pack(lengths.map { ArraySlice([Int32](repeating: 0, count: $0)) })
        let n = batch.totalRows, g3 = 3 * h
        let x = randomBuffer(n * i, &rng)
        let wIH = randomBuffer(g3 * i, &rng, -0.8, 0.8), wHH = randomBuffer(g3 * h, &rng, -0.8, 0.8)
        let bIH = randomBuffer(g3, &rng, -0.8, 0.8), bHH = randomBuffer(g3, &rng, -0.8, 0.8)
        let r = randomBuffer(n * h, &rng)
        let gates = FloatBuffer.zeros(count: n * g3), recurrent = FloatBuffer.zeros(count: n * g3), hidden = FloatBuffer.zeros(count: n * h)
        func loss() -> Double {
            GRULayer.forward(x: x.pointer, inputDim: i, hiddenDim: h, weightIH: wIH.pointer, weightHH: wHH.pointer,
                             biasIH: bIH.pointer, biasHH: bHH.pointer, batch: batch, gates: gates.pointer,
                             recurrent: recurrent.pointer, hidden: hidden.pointer)
            return weightedSum(hidden.pointer, r.pointer, n * h)
        }
        _ = loss()
        // Backward accumulates: start from non-zero "earlier" gradients.
        let previousIH = randomBuffer(g3 * i, &rng), previousHH = randomBuffer(g3 * h, &rng)
        let previousBIH = randomBuffer(g3, &rng), previousBHH = randomBuffer(g3, &rng)
        let dIH = copyBuffer(previousIH, g3 * i), dHH = copyBuffer(previousHH, g3 * h)
        let dBIH = copyBuffer(previousBIH, g3), dBHH = copyBuffer(previousBHH, g3)
        let dX = FloatBuffer.zeros(count: n * i)
        dX.pointer.update(repeating: 123, count: n * i)   // must be overwritten, not added to
        let dHidden = copyBuffer(r, n * h)
        // Scratch filled with garbage: backward must not depend on its contents.
        let dGatesX = randomBuffer(n * g3, &rng, 50, 60), dGatesH = randomBuffer(n * g3, &rng, 50, 60)
        let previousHidden = randomBuffer(n * h, &rng, 50, 60), zeros = randomBuffer(h, &rng, 50, 60)
        GRULayer.backward(x: x.pointer, inputDim: i, hiddenDim: h, weightIH: wIH.pointer, weightHH: wHH.pointer,
                          batch: batch, gates: gates.pointer, recurrent: recurrent.pointer, hidden: hidden.pointer,
                          dHidden: dHidden.pointer, dWeightIH: dIH.pointer, dWeightHH: dHH.pointer,
                          dBiasIH: dBIH.pointer, dBiasHH: dBHH.pointer, dX: dX.pointer,
                          dGatesX: dGatesX.pointer, dGatesH: dGatesH.pointer,
                          previousHidden: previousHidden.pointer, zeros: zeros.pointer)
        let eps: Float = 1e-2
        var significant = 0
        significant += assertGradientsMatch("gru dX \(lengths)", indices: Array(0..<(n * i)), file: file, line: line,
                                            analytic: { Double(dX.pointer[$0]) },
                                            numeric: { numericDerivative(x.pointer, $0, eps: eps, loss) })
        significant += assertGradientsMatch("gru dWeightIH \(lengths)", indices: Array(0..<(g3 * i)), file: file, line: line,
                                            analytic: { Double(dIH.pointer[$0] - previousIH.pointer[$0]) },
                                            numeric: { numericDerivative(wIH.pointer, $0, eps: eps, loss) })
        let hh = assertGradientsMatch("gru dWeightHH \(lengths)", indices: Array(0..<(g3 * h)), file: file, line: line,
                                      analytic: { Double(dHH.pointer[$0] - previousHH.pointer[$0]) },
                                      numeric: { numericDerivative(wHH.pointer, $0, eps: eps, loss) })
        significant += assertGradientsMatch("gru dBiasIH \(lengths)", indices: Array(0..<g3), file: file, line: line,
                                            analytic: { Double(dBIH.pointer[$0] - previousBIH.pointer[$0]) },
                                            numeric: { numericDerivative(bIH.pointer, $0, eps: eps, loss) })
        significant += assertGradientsMatch("gru dBiasHH \(lengths)", indices: Array(0..<g3), file: file, line: line,
                                            analytic: { Double(dBHH.pointer[$0] - previousBHH.pointer[$0]) },
                                            numeric: { numericDerivative(bHH.pointer, $0, eps: eps, loss) })
        XCTAssertGreaterThan(significant, (n * i + g3 * i + 2 * g3) / 2, file: file, line: line)
        if (lengths.first ?? 0) > 1 {
            XCTAssertGreaterThan(hh, g3 * h / 2, file: file, line: line)
        } else {
            XCTAssertEqual(hh, 0, "one step: no recurrent product", file: file, line: line)
        }
    }

    func testGRULayerBackwardMixedLengths() {
        checkGRULayer(lengths: [5, 3, 3, 1], inputDim: 3, hiddenDim: 4, seed: 51)
    }

    func testGRULayerBackwardLengthOneAndEmptySequences() {
        checkGRULayer(lengths: [4, 2, 1, 1, 0], inputDim: 2, hiddenDim: 3, seed: 52)
        checkGRULayer(lengths: [1, 1, 1], inputDim: 3, hiddenDim: 2, seed: 53)
        checkGRULayer(lengths: [6], inputDim: 2, hiddenDim: 3, seed: 54)
    }

    // MARK: RNNLayer

    private func checkRNNLayer(lengths: [Int], inputDim i: Int, hiddenDim h: Int, seed: UInt64,
                               file: StaticString = #filePath, line: UInt = #line) {
        var rng = SeededGenerator(seed: seed)
        let batch = PackedBatch()
        batch.pack(lengths.map { ArraySlice([Int32](repeating: 0, count: $0)) })
        let n = batch.totalRows
        let x = randomBuffer(n * i, &rng)
        let wIH = randomBuffer(h * i, &rng, -0.8, 0.8), wHH = randomBuffer(h * h, &rng, -0.8, 0.8)
        let bias = randomBuffer(h, &rng, -0.8, 0.8)
        let r = randomBuffer(n * h, &rng)
        let hidden = FloatBuffer.zeros(count: n * h)
        func loss() -> Double {
            RNNLayer.forward(x: x.pointer, inputDim: i, hiddenDim: h, weightIH: wIH.pointer, weightHH: wHH.pointer,
                             bias: bias.pointer, batch: batch, hidden: hidden.pointer)
            return weightedSum(hidden.pointer, r.pointer, n * h)
        }
        _ = loss()
        let previousIH = randomBuffer(h * i, &rng), previousHH = randomBuffer(h * h, &rng), previousB = randomBuffer(h, &rng)
        let dIH = copyBuffer(previousIH, h * i), dHH = copyBuffer(previousHH, h * h), dB = copyBuffer(previousB, h)
        let dX = FloatBuffer.zeros(count: n * i)
        dX.pointer.update(repeating: 123, count: n * i)
        let dHidden = copyBuffer(r, n * h)
        let dPre = randomBuffer(n * h, &rng, 50, 60), previousHidden = randomBuffer(n * h, &rng, 50, 60)
        RNNLayer.backward(x: x.pointer, inputDim: i, hiddenDim: h, weightIH: wIH.pointer, weightHH: wHH.pointer,
                          batch: batch, hidden: hidden.pointer, dHidden: dHidden.pointer, dWeightIH: dIH.pointer,
                          dWeightHH: dHH.pointer, dBias: dB.pointer, dX: dX.pointer, dPre: dPre.pointer,
                          previousHidden: previousHidden.pointer)
        let eps: Float = 1e-2
        var significant = 0
        significant += assertGradientsMatch("rnn dX \(lengths)", indices: Array(0..<(n * i)), file: file, line: line,
                                            analytic: { Double(dX.pointer[$0]) },
                                            numeric: { numericDerivative(x.pointer, $0, eps: eps, loss) })
        significant += assertGradientsMatch("rnn dWeightIH \(lengths)", indices: Array(0..<(h * i)), file: file, line: line,
                                            analytic: { Double(dIH.pointer[$0] - previousIH.pointer[$0]) },
                                            numeric: { numericDerivative(wIH.pointer, $0, eps: eps, loss) })
        let hh = assertGradientsMatch("rnn dWeightHH \(lengths)", indices: Array(0..<(h * h)), file: file, line: line,
                                      analytic: { Double(dHH.pointer[$0] - previousHH.pointer[$0]) },
                                      numeric: { numericDerivative(wHH.pointer, $0, eps: eps, loss) })
        significant += assertGradientsMatch("rnn dBias \(lengths)", indices: Array(0..<h), file: file, line: line,
                                            analytic: { Double(dB.pointer[$0] - previousB.pointer[$0]) },
                                            numeric: { numericDerivative(bias.pointer, $0, eps: eps, loss) })
        XCTAssertGreaterThan(significant, (n * i + h * i + h) / 2, file: file, line: line)
        if (lengths.first ?? 0) > 1 {
            XCTAssertGreaterThan(hh, h * h / 2, file: file, line: line)
        } else {
            XCTAssertEqual(hh, 0, "one step: no recurrent product", file: file, line: line)
        }
    }

    func testRNNLayerBackwardMixedLengths() {
        checkRNNLayer(lengths: [5, 3, 3, 1], inputDim: 3, hiddenDim: 4, seed: 61)
    }

    func testRNNLayerBackwardLengthOneAndEmptySequences() {
        checkRNNLayer(lengths: [4, 2, 1, 1, 0], inputDim: 2, hiddenDim: 3, seed: 62)
        checkRNNLayer(lengths: [1, 1, 1], inputDim: 3, hiddenDim: 2, seed: 63)
        checkRNNLayer(lengths: [6], inputDim: 2, hiddenDim: 3, seed: 64)
    }

    // MARK: the layers against their equations

    /// One cell step in Double from PyTorch's definitions. Weights row-major as in the
    /// layers; `biases` are the cell's bias tensors in layout order.
    private func referenceStep(_ cell: RecurrentCell, x: [Double], h: [Double], c: [Double],
                               wIH: (Int) -> Double, wHH: (Int) -> Double, biases: [(Int) -> Double]) -> (h: [Double], c: [Double]) {
        let hd = h.count, rows = cell.blocks * hd
        func sig(_ v: Double) -> Double { 1 / (1 + exp(-v)) }
        let ix = (0..<rows).map { r in (0..<x.count).reduce(0.0) { $0 + wIH(r * x.count + $1) * x[$1] } }
        let hx = (0..<rows).map { r in (0..<hd).reduce(0.0) { $0 + wHH(r * hd + $1) * h[$1] } }
        switch cell {
        case .lstm:
            var hNew = h, cNew = c
            for j in 0..<hd {
                func pre(_ k: Int) -> Double { ix[k * hd + j] + hx[k * hd + j] + biases[0](k * hd + j) }
                let i = sig(pre(0)), f = sig(pre(1)), g = tanh(pre(2)), o = sig(pre(3))
                cNew[j] = f * c[j] + i * g
                hNew[j] = o * tanh(cNew[j])
            }
            return (hNew, cNew)
        case .gru:
            var hNew = h
            for j in 0..<hd {
                let r = sig(ix[j] + biases[0](j) + hx[j] + biases[1](j))
                let z = sig(ix[hd + j] + biases[0](hd + j) + hx[hd + j] + biases[1](hd + j))
                let n = tanh(ix[2 * hd + j] + biases[0](2 * hd + j) + r * (hx[2 * hd + j] + biases[1](2 * hd + j)))
                hNew[j] = (1 - z) * n + z * h[j]
            }
            return (hNew, c)
        case .rnn:
            return ((0..<hd).map { tanh(ix[$0] + hx[$0] + biases[0]($0)) }, c)
        }
    }

    /// The class probabilities of one text from the definitions, in Double: each
    /// direction of each layer runs over the text (the reverse one backwards), row t of
    /// a layer's output is [forward state at t, reverse state at t], pooling reads each
    /// direction's states in its own order.
    private func reference(_ model: TrainedModel, _ ids: [Int32]) -> [Double] {
        let p = model.parameters.pointer
        let net = model.network.recurrent!
        func tensor(_ name: String) -> (Int, [Int]) {
            guard let t = net.layout.tensor(named: name) else { XCTFail("no tensor \(name)"); return (0, [0]) }
            return (t.offset, t.shape)
        }
        func values(_ name: String) -> (Int) -> Double { let (o, _) = tensor(name); return { Double(p[o + $0]) } }
        let hd = net.hiddenDim
        let (embOffset, embShape) = tensor("embedding.weight")
        var inputs: [[Double]] = ids.map { id in (0..<embShape[1]).map { Double(p[embOffset + Int(id) * embShape[1] + $0]) } }
        var topStates = [[[Double]]]()
        for l in 0..<net.layers {
            var outputs = [[Double]](repeating: [], count: inputs.count)
            topStates = []
            for d in 0..<net.directions {
                let prefix = "\(net.cell.rawValue).\(l)" + (d == 1 ? ".reverse" : "")
                let biases = net.cell.biasNames.map { values("\(prefix).\($0)") }
                var h = [Double](repeating: 0, count: hd), c = h
                var states = [[Double]]()
                for x in (d == 0 ? inputs : inputs.reversed()) {
                    (h, c) = referenceStep(net.cell, x: x, h: h, c: c, wIH: values("\(prefix).weight_ih"),
                                           wHH: values("\(prefix).weight_hh"), biases: biases)
                    states.append(h)
                }
                topStates.append(states)
                for t in 0..<inputs.count { outputs[t] += d == 0 ? states[t] : states[inputs.count - 1 - t] }
            }
            inputs = outputs
        }
        var pooled = [Double]()
        for states in topStates {
            if states.isEmpty { pooled += [Double](repeating: 0, count: hd); continue }
            switch model.config.model.pooling {
            case .mean: pooled += (0..<hd).map { j in states.reduce(0) { $0 + $1[j] } / Double(states.count) }
            case .max: pooled += (0..<hd).map { j in states.map { $0[j] }.max()! }
            default: pooled += states.last!
            }
        }
        let (w, wShape) = tensor("output.weight")
        let (ob, _) = tensor("output.bias")
        let logits = (0..<wShape[0]).map { c in
            (0..<wShape[1]).reduce(Double(p[ob + c])) { $0 + Double(p[w + c * wShape[1] + $1]) * pooled[$1] }
        }
        let m = logits.max()!
        let e = logits.map { exp($0 - m) }
        let sum = e.reduce(0, +)
        return e.map { $0 / sum }
    }

    private func config(_ type: String, bidirectional: Bool = true, layers: Int = 2, pooling: String = "max",
                        dropout: Double = 0, embedding: Int = 4, hidden: Int = 5) -> Config {
        var c = tinyConfig(embedding: embedding, hidden: hidden, layers: layers)
        c.model.type = Config.ModelType(rawValue: type)!
        c.model.bidirectional = bidirectional
        c.model.pooling = SequencePooling(rawValue: pooling)!
        c.model.dropout = dropout
        return c
    }

    func testForwardMatchesReferenceForEveryCell() {
        let cases: [(Bool, Int, String)] = [(false, 1, "last"), (false, 2, "mean"), (true, 1, "last"), (true, 2, "last"),
                                            (true, 2, "mean"), (true, 3, "max")]
        for cell in RecurrentCell.allCases {
            for (bidirectional, layers, pooling) in cases {
                // Dropout is configured but must not apply outside training.
                let c = config(cell.rawValue, bidirectional: bidirectional, layers: layers, pooling: pooling, dropout: 0.5)
                let model = randomModel(config: c, texts: NetworkTests.texts, labels: NetworkTests.labels, seed: 5)
                for t in model.network.layout.tensors where t.name != "embedding.weight" {
                    for k in 0..<t.count { model.parameters.pointer[t.offset + k] *= 2 }
                }
                let got = probabilities(model, NetworkTests.texts)
                for (i, text) in NetworkTests.texts.enumerated() {
                    let expected = reference(model, model.encode(text))
                    for k in 0..<3 {
                        XCTAssertEqual(Double(got[i * 3 + k]), expected[k], accuracy: 2e-5,
                                       "\(cell) bi \(bidirectional) \(layers) layers \(pooling): \(text.debugDescription)")
                    }
                }
            }
        }
    }

    // MARK: packing in reverse

    func testReversedRowsMatchPackingTheReversedTexts() {
        let texts: [[Int32]] = [[1, 2, 3, 4, 5], [6, 7, 8], [9, 10, 11], [12], []]
        let forward = PackedBatch(), backward = PackedBatch()
        forward.pack(texts.map { $0[...] })
        backward.pack(texts.map { Array($0.reversed())[...] })
        XCTAssertEqual(forward.stepOffsets, backward.stepOffsets)
        let n = forward.totalRows, width = 2
        let src = FloatBuffer.zeros(count: n * width), dst = FloatBuffer.zeros(count: n * 3)
        for r in 0..<n { src.pointer[r * width] = Float(forward.tokens[r]); src.pointer[r * width + 1] = -Float(forward.tokens[r]) }
        dst.pointer.update(repeating: 99, count: n * 3)
        ReversedRows.copy(from: src.pointer, stride: width, to: dst.pointer + 1, stride: 3, width: width, batch: forward)
        for r in 0..<n {
            XCTAssertEqual(dst.pointer[r * 3], 99, "outside the copied columns")
            XCTAssertEqual(dst.pointer[r * 3 + 1], Float(backward.tokens[r]))
            XCTAssertEqual(dst.pointer[r * 3 + 2], -Float(backward.tokens[r]))
        }
        // Its own inverse; with accumulate it adds.
        let back = FloatBuffer.zeros(count: n * width)
        back.pointer.update(repeating: 1, count: n * width)
        ReversedRows.copy(from: dst.pointer + 1, stride: 3, to: back.pointer, stride: width, width: width, batch: forward, accumulate: true)
        for k in 0..<(n * width) { XCTAssertEqual(back.pointer[k], src.pointer[k] + 1) }
    }

    // MARK: tensor names

    func testTensorNames() {
        func names(_ c: Config) -> [String] {
            Network.make(c, vocabulary: 10, classes: 3).layout.tensors.map(\.name)
        }
        // The plain LSTM keeps the names (and order) of existing model files.
        XCTAssertEqual(names(config("lstm", bidirectional: false, layers: 2)),
                       ["embedding.weight", "lstm.0.weight_ih", "lstm.0.weight_hh", "lstm.0.bias",
                        "lstm.1.weight_ih", "lstm.1.weight_hh", "lstm.1.bias", "output.weight", "output.bias"])
        XCTAssertEqual(names(config("gru", bidirectional: true, layers: 1)),
                       ["embedding.weight", "gru.0.weight_ih", "gru.0.weight_hh", "gru.0.bias_ih", "gru.0.bias_hh",
                        "gru.0.reverse.weight_ih", "gru.0.reverse.weight_hh", "gru.0.reverse.bias_ih", "gru.0.reverse.bias_hh",
                        "output.weight", "output.bias"])
        let bi = Network.make(config("rnn", layers: 2, embedding: 4, hidden: 5), vocabulary: 10, classes: 3)
        XCTAssertEqual(bi.layout.tensor(named: "rnn.1.reverse.weight_ih")?.shape, [5, 10])
        XCTAssertEqual(bi.layout.tensor(named: "rnn.0.weight_ih")?.shape, [5, 4])
        XCTAssertEqual(bi.layout.tensor(named: "output.weight")?.shape, [3, 10])
        // Both directions of a biLSTM start with forget-gate biases near 1.
        let lstm = Network.make(config("lstm", layers: 1, hidden: 64), vocabulary: 10, classes: 3)
        let params = FloatBuffer.zeros(count: lstm.layout.count)
        var rng = SeededGenerator(seed: 1)
        lstm.initialize(params.pointer, rng: &rng)
        for name in ["lstm.0.bias", "lstm.0.reverse.bias"] {
            let t = lstm.layout.tensor(named: name)!
            let forget = (64..<128).map { Double(params.pointer[t.offset + $0]) }.reduce(0, +) / 64
            let input = (0..<64).map { Double(params.pointer[t.offset + $0]) }.reduce(0, +) / 64
            XCTAssertEqual(forget, 1, accuracy: 0.06, name)
            XCTAssertEqual(input, 0, accuracy: 0.06, name)
        }
    }

    // MARK: whole-network gradients

    /// Cross-entropy gradient of every parameter tensor, with dropout masks fixed by
    /// reseeding the workspace's generator before every forward pass.
    private func checkNetwork(_ c: Config, sequences: [[Int32]], targets: [Int32], vocab: Int, classes: Int,
                              seed: UInt64, file: StaticString = #filePath, line: UInt = #line) {
        let network = Network.make(c, vocabulary: vocab, classes: classes)
        var rng = SeededGenerator(seed: seed)
        let count = network.layout.count
        let params = FloatBuffer.zeros(count: count)
        network.initialize(params.pointer, rng: &rng)
        for t in network.layout.tensors where t.name != "embedding.weight" {
            for k in 0..<t.count { params.pointer[t.offset + k] *= 2 }
        }
        let ws = network.makeWorkspace()
        let scale: Float = 1.5
        let what = "\(c.model.type) bi \(c.model.bidirectional) \(c.model.layers) layers \(c.model.pooling) dropout \(c.model.dropout)"
        func loss() -> Double {
            ws.training = true
            ws.rng = SeededGenerator(seed: 4242)
            ws.batch.pack(sequences.map { $0[...] })
            network.forward(params.pointer, batch: ws.batch, workspace: ws)
            return Double(scale) * SoftmaxCrossEntropy.loss(probs: network.outputs(ws), targets: targets, rows: sequences.count, classes: classes)
        }
        let first = loss()
        XCTAssertEqual(loss(), first, "a fixed seed fixes the dropout masks", file: file, line: line)
        if c.model.dropout > 0 {
            ws.training = false
            ws.batch.pack(sequences.map { $0[...] })
            network.forward(params.pointer, batch: ws.batch, workspace: ws)
            let plain = SoftmaxCrossEntropy.loss(probs: network.outputs(ws), targets: targets, rows: sequences.count, classes: classes)
            XCTAssertNotEqual(Double(scale) * plain, first, "dropout must change the training forward pass", file: file, line: line)
            _ = loss()
        }
        let previous = randomBuffer(count, &rng)
        let grads = copyBuffer(previous, count)
        targets.withUnsafeBufferPointer {
            network.backward(params.pointer, batch: ws.batch, targets: $0.baseAddress!, scale: scale, workspace: ws, grads: grads.pointer)
        }
        // Max pooling has kinks: a perturbation that moves an argmax crosses one, and the
        // finite difference there measures the jump, not the derivative. Such coordinates
        // are left out (and counted).
        func argmaxRows() -> [Int32] {   // the plan holds argmax rows for max pooling only
            c.model.pooling == .max ? array32(network.recurrentPoolingRows(ws), sequences.count * network.outputDim) : []
        }
        _ = loss()
        let baseArgmax = argmaxRows()
        let eps: Float = 1e-2
        var skipped = 0, checked = 0
        let used = Set(sequences.joined().map { Int($0) })
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
                indices = sampleIndices(t.count, limit: 100, &rng)
            }
            var numeric = [Int: Double]()
            for i in indices.map({ t.offset + $0 }) {
                let saved = params.pointer[i]
                params.pointer[i] = saved + eps
                let plus = loss(), plusArgmax = argmaxRows()
                params.pointer[i] = saved - eps
                let minus = loss(), minusArgmax = argmaxRows()
                params.pointer[i] = saved
                if c.model.pooling == .max && (plusArgmax != baseArgmax || minusArgmax != baseArgmax) { skipped += 1; continue }
                numeric[i] = (plus - minus) / (Double(saved + eps) - Double(saved - eps))
            }
            checked += indices.count
            let significant = assertGradientsMatch("\(what): \(t.name)", indices: numeric.keys.sorted(), file: file, line: line,
                                                   analytic: { Double(grads.pointer[$0] - previous.pointer[$0]) },
                                                   numeric: { numeric[$0]! })
            XCTAssertGreaterThan(significant, 0, "\(what): \(t.name): no coordinate had a clearly non-zero gradient",
                                 file: file, line: line)
        }
        XCTAssertLessThan(skipped * 10, checked, "\(what): too many coordinates at a max-pooling kink", file: file, line: line)
    }

    private func array32(_ p: UnsafePointer<Int32>, _ count: Int) -> [Int32] { Array(UnsafeBufferPointer(start: p, count: count)) }

    private let sequences: [[Int32]] = [[3, 7, 2, 9, 4, 2], [5, 5, 8], [10, 3, 1], [6], [11], []]
    private let targets: [Int32] = [0, 2, 1, 1, 0, 2]

    func testBidirectionalTwoLayerLSTMGradientWithDropout() {
        checkNetwork(config("lstm", pooling: "last", dropout: 0.3), sequences: sequences, targets: targets, vocab: 13, classes: 3, seed: 71)
    }

    func testBidirectionalTwoLayerGRUGradientWithDropout() {
        checkNetwork(config("gru", pooling: "max", dropout: 0.3), sequences: sequences, targets: targets, vocab: 13, classes: 3, seed: 72)
    }

    func testBidirectionalTwoLayerRNNGradientWithDropout() {
        checkNetwork(config("rnn", pooling: "mean", dropout: 0.3), sequences: sequences, targets: targets, vocab: 13, classes: 3, seed: 73)
    }

    func testOtherArrangementsGradients() {
        // Unidirectional stacks with dropout (the layer output is then a masked copy),
        // and bidirectional ones without.
        for cell in ["gru", "rnn", "lstm"] {
            checkNetwork(config(cell, bidirectional: false, pooling: "last", dropout: 0.25), sequences: sequences,
                         targets: targets, vocab: 13, classes: 3, seed: 74)
            checkNetwork(config(cell, layers: 1, pooling: "last"), sequences: sequences, targets: targets,
                         vocab: 13, classes: 3, seed: 75)
        }
        checkNetwork(config("gru", bidirectional: false, layers: 1, pooling: "max"), sequences: sequences, targets: targets,
                     vocab: 13, classes: 3, seed: 76)
    }

    // MARK: padding invariance

    func testBidirectionalPaddingInvariance() {
        for (type, layers, pooling) in [("lstm", 2, "last"), ("gru", 2, "max"), ("rnn", 2, "mean"), ("gru", 1, "last")] {
            let c = config(type, layers: layers, pooling: pooling, dropout: 0.5, embedding: 6, hidden: 7)
            let model = randomModel(config: c, texts: NetworkTests.texts, labels: NetworkTests.labels, seed: 6)
            let texts = NetworkTests.texts
            let alone = texts.map { probabilities(model, [$0]) }
            func check(_ batch: [Int], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
                let out = probabilities(model, batch.map { texts[$0] })
                for (row, index) in batch.enumerated() {
                    for k in 0..<3 {
                        XCTAssertEqual(out[row * 3 + k], alone[index][k], accuracy: 1e-5,
                                       "\(type) \(layers) layers \(pooling), \(what): text \(index) at row \(row)", file: file, line: line)
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
                for k in 0..<3 { XCTAssertEqual(out[row * 3 + k], alone[index][k], accuracy: 1e-5, "3 workspaces, row \(row)") }
            }
        }
    }

    // MARK: training

    private func trainingConfig(_ type: String, bidirectional: Bool, layers: Int = 1, dropout: Double = 0,
                                threads: Int = 1, seed: UInt64 = 7) -> Config {
        var c = tinyConfig(embedding: 16, hidden: 16, layers: layers, epochs: 5, threads: threads, seed: seed,
                           batchSize: 16, learningRate: 0.02)
        c.model.type = Config.ModelType(rawValue: type)!
        c.model.bidirectional = bidirectional
        c.model.dropout = dropout
        return c
    }

    @discardableResult
    private func learnsKeywords(_ c: Config, file: StaticString = #filePath, line: UInt = #line) throws -> Model {
        let classifier = Model(config: c)
        try classifier.train(TrainingTests.train)
        let accuracy = try classifier.evaluate(TrainingTests.heldOut).accuracy ?? -1
        XCTAssertGreaterThanOrEqual(accuracy, 0.9, "\(c.model.type) bidirectional \(c.model.bidirectional)", file: file, line: line)
        return classifier
    }

    func testGRULearnsKeywordData() throws {
        try learnsKeywords(trainingConfig("gru", bidirectional: false))
    }

    func testBidirectionalLSTMLearnsKeywordData() throws {
        try learnsKeywords(trainingConfig("lstm", bidirectional: true))
    }

    func testRNNAndStackedBidirectionalGRUWithDropoutLearnKeywordData() throws {
        try learnsKeywords(trainingConfig("rnn", bidirectional: false))
        try learnsKeywords(trainingConfig("gru", bidirectional: true, layers: 2, dropout: 0.2, threads: 2))
    }

    func testTrainingWithDropoutIsReproducibleAndPredictionIsNot() throws {
        // Same seed and threads: the same masks, the same model. Prediction never drops.
        func run(seed: UInt64) throws -> (Model, [Float]) {
            let c = Model(config: trainingConfig("lstm", bidirectional: true, layers: 2, dropout: 0.3, threads: 2, seed: seed))
            try c.train(KeywordData.make(count: 120, seed: 5))
            return (c, try c.predictProbabilities(TrainingTests.probe))
        }
        let (classifier, a) = try run(seed: 3)
        let (_, b) = try run(seed: 3)
        XCTAssertEqual(a.map(\.bitPattern), b.map(\.bitPattern))
        XCTAssertEqual(try classifier.predictProbabilities(TrainingTests.probe).map(\.bitPattern), a.map(\.bitPattern),
                       "prediction is deterministic")
        // Prediction and evaluation (with fresh workspaces) agree, and so does the
        // validation the trainer runs on its own workspaces after each step's dropout.
        let data = KeywordData.make(count: 40, seed: 9)
        let validated = Model(config: trainingConfig("gru", bidirectional: true, layers: 2, dropout: 0.5, threads: 2))
        let report = try validated.train(KeywordData.make(count: 120, seed: 5), validation: data)
        XCTAssertEqual(report.epochs.last!.validAccuracy!, try validated.evaluate(data).accuracy ?? -1, accuracy: 1e-12)
        // Evaluation may use the inference input table (InputProjectionTable), which
        // validation never does: equal to float rounding, not to the bit.
        XCTAssertEqual(report.epochs.last!.validLoss!, try validated.evaluate(data).meanLoss, accuracy: 1e-6)
        let probs = try classifier.predictProbabilities(data.texts)
        var correct = 0
        for (i, label) in data.labels.enumerated() {
            let row = Array(probs[(i * 3)..<(i * 3 + 3)])
            if classifier.labels[row.firstIndex(of: row.max()!)!] == label { correct += 1 }
        }
        XCTAssertEqual(try classifier.evaluate(data).accuracy ?? -1, Double(correct) / 40, accuracy: 1e-12)
    }

    // MARK: saving

    func testBidirectionalGRUSaveLoadRoundTrip() throws {
        let classifier = try learnsKeywords(trainingConfig("gru", bidirectional: true))
        let dir = ScratchDirectory()
        let path = dir.file("bigru.safetensors")
        try classifier.save(to: path)
        let loaded = try Model.load(from: path)
        let texts = TrainingTests.probe
        XCTAssertEqual(try loaded.predictProbabilities(texts).map(\.bitPattern),
                       try classifier.predictProbabilities(texts).map(\.bitPattern))
        let model = try ModelFile.load(from: path)
        XCTAssertEqual(model.config.model.type, .gru)
        XCTAssertTrue(model.config.model.bidirectional)
        XCTAssertNotNil(model.network.layout.tensor(named: "gru.0.reverse.bias_hh"))
        try ModelFile.save(model, to: dir.file("again.safetensors"))
        XCTAssertEqual(readBytes(dir.file("again.safetensors")), readBytes(path))
    }
}
