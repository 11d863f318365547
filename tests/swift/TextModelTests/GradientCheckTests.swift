// Finite-difference checks of every layer's backward pass (NN/), of the composed
// RecurrentNetwork (LSTM), and of the fast activation functions the layers use.
#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import TextModel

final class GradientCheckTests: XCTestCase {

    // MARK: activations

    func testFastExpRelativeErrorOverWholeRange() {
        var worst = 0.0, worstAt: Float = 0
        func check(_ x: Float) {
            let reference = exp(Double(x))
            let e = abs(Double(fastExp(x)) - reference) / reference
            if !(e <= worst) { worst = e; worstAt = x }
        }
        var x: Float = -87
        while x <= 88 { check(x); x += 0.00731 }
        // Points where the range reduction switches from n to n + 1 (|r| = ln2 / 2).
        for k in -125...126 {
            let boundary = (Float(k) + 0.5) * 0.693_147_18
            if boundary > -87 && boundary < 88 {
                check(boundary); check(boundary.nextUp); check(boundary.nextDown)
            }
        }
        for v: Float in [0, 1, -1, 1e-8, -1e-8, 0.5, 10, -10, 87.99, -86.99] { check(v) }
        XCTAssertLessThan(worst, 1e-6, "fastExp worst relative error at x = \(worstAt)")
        XCTAssertEqual(fastExp(0), 1)
    }

    func testFastExpClampsOutsideItsRange() {
        XCTAssertEqual(fastExp(-1000), fastExp(-87))
        XCTAssertEqual(fastExp(1000), fastExp(88))
        XCTAssertEqual(fastExp(-.infinity), fastExp(-87))
        XCTAssertEqual(fastExp(.infinity), fastExp(88))
        XCTAssertTrue(fastExp(88).isFinite)
        XCTAssertGreaterThan(fastExp(-87), 0)
    }

    func testTanhAndSigmoidAbsoluteError() {
        var worstTanh = 0.0, worstSigmoid = 0.0
        var x: Float = -40
        while x <= 40 {
            worstTanh = max(worstTanh, abs(Double(tanhFloat(x)) - tanh(Double(x))))
            worstSigmoid = max(worstSigmoid, abs(Double(sigmoid(x)) - 1 / (1 + exp(-Double(x)))))
            x += 0.001_37
        }
        for v: Float in [0, 1e-6, -1e-6, 1e-3, -1e-3] {
            worstTanh = max(worstTanh, abs(Double(tanhFloat(v)) - tanh(Double(v))))
            worstSigmoid = max(worstSigmoid, abs(Double(sigmoid(v)) - 1 / (1 + exp(-Double(v)))))
        }
        XCTAssertLessThan(worstTanh, 1e-6)
        XCTAssertLessThan(worstSigmoid, 1e-6)
        XCTAssertEqual(tanhFloat(1000), 1)
        XCTAssertEqual(tanhFloat(-1000), -1)
        XCTAssertEqual(sigmoid(1000), 1)
        XCTAssertGreaterThanOrEqual(sigmoid(-1000), 0)
        XCTAssertLessThan(sigmoid(-1000), 1e-30)
        XCTAssertEqual(tanhFloat(0), 0)
        XCTAssertEqual(sigmoid(0), 0.5)
    }

    func testInPlaceActivationsMatchScalarOnes() {
        var rng = SeededGenerator(seed: 3)
        let n = 37
        let a = randomBuffer(n, &rng, -12, 12)
        let s = copyBuffer(a, n), t = copyBuffer(a, n)
        sigmoidInPlace(s.pointer, n)
        tanhInPlace(t.pointer, n)
        for i in 0..<n {
            XCTAssertEqual(s.pointer[i], sigmoid(a.pointer[i]))
            XCTAssertEqual(t.pointer[i], tanhFloat(a.pointer[i]))
        }
    }

    // MARK: Embedding

    func testEmbeddingBackward() {
        var rng = SeededGenerator(seed: 10)
        let v = 7, d = 3
        let ids: [Int32] = [2, 5, 2, 0, 6, 2]   // row 2 three times: gradients must add up
        let n = ids.count
        let table = randomBuffer(v * d, &rng)
        let r = randomBuffer(n * d, &rng)
        let out = FloatBuffer.zeros(count: n * d)
        func loss() -> Double {
            ids.withUnsafeBufferPointer { Embedding.forward(table: table.pointer, dim: d, ids: $0.baseAddress!, count: n, out: out.pointer) }
            return weightedSum(out.pointer, r.pointer, n * d)
        }
        _ = loss()
        for (row, id) in ids.enumerated() {
            XCTAssertEqual(array(out.pointer + row * d, d), array(table.pointer + Int(id) * d, d))
        }
        // Backward accumulates: start from non-zero "earlier" gradients.
        let previous = randomBuffer(v * d, &rng)
        let dTable = copyBuffer(previous, v * d)
        ids.withUnsafeBufferPointer { Embedding.backward(dOut: r.pointer, dim: d, ids: $0.baseAddress!, count: n, dTable: dTable.pointer) }
        let significant = assertGradientsMatch("embedding", indices: Array(0..<(v * d)),
                                               analytic: { Double(dTable.pointer[$0] - previous.pointer[$0]) },
                                               numeric: { numericDerivative(table.pointer, $0, eps: 1e-2, loss) })
        XCTAssertGreaterThan(significant, 0)
        for row in [1, 3, 4] {   // never looked up: untouched
            XCTAssertEqual(array(dTable.pointer + row * d, d), array(previous.pointer + row * d, d))
        }
    }

    // MARK: Linear

    func testLinearForwardAgainstReference() {
        var rng = SeededGenerator(seed: 11)
        let n = 4, i = 5, o = 3
        let x = randomBuffer(n * i, &rng), w = randomBuffer(o * i, &rng), b = randomBuffer(o, &rng)
        let y = FloatBuffer.zeros(count: n * o)
        Linear.forward(x: x.pointer, rows: n, inputDim: i, outputDim: o, weight: w.pointer, bias: b.pointer, out: y.pointer)
        for r in 0..<n {
            for c in 0..<o {
                var s = Double(b.pointer[c])
                for k in 0..<i { s += Double(x.pointer[r * i + k]) * Double(w.pointer[c * i + k]) }
                XCTAssertEqual(Double(y.pointer[r * o + c]), s, accuracy: 1e-5)
            }
        }
    }

    func testLinearBackward() {
        var rng = SeededGenerator(seed: 12)
        let n = 4, i = 5, o = 3
        let x = randomBuffer(n * i, &rng), w = randomBuffer(o * i, &rng), b = randomBuffer(o, &rng)
        let r = randomBuffer(n * o, &rng)
        let y = FloatBuffer.zeros(count: n * o)
        func loss() -> Double {
            Linear.forward(x: x.pointer, rows: n, inputDim: i, outputDim: o, weight: w.pointer, bias: b.pointer, out: y.pointer)
            return weightedSum(y.pointer, r.pointer, n * o)
        }
        let previousW = randomBuffer(o * i, &rng), previousB = randomBuffer(o, &rng)
        let dW = copyBuffer(previousW, o * i), dB = copyBuffer(previousB, o)
        let dX = FloatBuffer.zeros(count: n * i)
        dX.pointer.update(repeating: 123, count: n * i)   // must be overwritten, not added to
        Linear.backward(dOut: r.pointer, x: x.pointer, rows: n, inputDim: i, outputDim: o, weight: w.pointer,
                        dWeight: dW.pointer, dBias: dB.pointer, dx: dX.pointer)
        assertGradientsMatch("linear.weight", indices: Array(0..<(o * i)),
                             analytic: { Double(dW.pointer[$0] - previousW.pointer[$0]) },
                             numeric: { numericDerivative(w.pointer, $0, eps: 1e-2, loss) })
        assertGradientsMatch("linear.bias", indices: Array(0..<o),
                             analytic: { Double(dB.pointer[$0] - previousB.pointer[$0]) },
                             numeric: { numericDerivative(b.pointer, $0, eps: 1e-2, loss) })
        assertGradientsMatch("linear.x", indices: Array(0..<(n * i)),
                             analytic: { Double(dX.pointer[$0]) },
                             numeric: { numericDerivative(x.pointer, $0, eps: 1e-2, loss) })
        // dx is optional.
        let dW2 = FloatBuffer.zeros(count: o * i), dB2 = FloatBuffer.zeros(count: o)
        Linear.backward(dOut: r.pointer, x: x.pointer, rows: n, inputDim: i, outputDim: o, weight: w.pointer,
                        dWeight: dW2.pointer, dBias: dB2.pointer, dx: nil)
        for k in 0..<(o * i) { XCTAssertEqual(dW2.pointer[k], dW.pointer[k] - previousW.pointer[k], accuracy: 1e-5) }
    }

    // MARK: SoftmaxCrossEntropy

    func testSoftmaxIsStableAndNormalised() {
        let logits: [Float] = [1000, 999, -1000, 0, 0, 0, -50, 20, 3]
        var probs = [Float](repeating: 0, count: 9)
        SoftmaxCrossEntropy.softmax(logits: logits, rows: 3, classes: 3, probs: &probs)
        for r in 0..<3 {
            XCTAssertEqual(Double(probs[r * 3] + probs[r * 3 + 1] + probs[r * 3 + 2]), 1, accuracy: 1e-6)
            for j in 0..<3 { XCTAssertTrue(probs[r * 3 + j].isFinite && probs[r * 3 + j] >= 0) }
        }
        let e = exp(-1.0)
        XCTAssertEqual(Double(probs[0]), 1 / (1 + e), accuracy: 1e-6)
        XCTAssertEqual(Double(probs[1]), e / (1 + e), accuracy: 1e-6)
        XCTAssertEqual(Double(probs[3]), 1.0 / 3, accuracy: 1e-6)
        // A confident mistake: large but finite loss.
        let targets: [Int32] = [2, 0, 0]
        let loss = SoftmaxCrossEntropy.loss(probs: probs, targets: targets, rows: 3, classes: 3)
        XCTAssertTrue(loss.isFinite)
        XCTAssertGreaterThan(loss, 60)
    }

    func testSoftmaxCrossEntropyBackward() {
        var rng = SeededGenerator(seed: 13)
        let n = 4, c = 5
        let logits = randomBuffer(n * c, &rng, -3, 3)
        let targets: [Int32] = [0, 4, 2, 2]
        let scale: Float = 0.75
        let probs = FloatBuffer.zeros(count: n * c)
        func loss() -> Double {
            SoftmaxCrossEntropy.softmax(logits: logits.pointer, rows: n, classes: c, probs: probs.pointer)
            return Double(scale) * SoftmaxCrossEntropy.loss(probs: probs.pointer, targets: targets, rows: n, classes: c)
        }
        _ = loss()
        // The loss is the plain definition: Σ -log softmax(z)[target].
        var reference = 0.0
        for r in 0..<n {
            var sum = 0.0
            for j in 0..<c { sum += exp(Double(logits.pointer[r * c + j])) }
            reference -= log(exp(Double(logits.pointer[r * c + Int(targets[r])])) / sum)
        }
        XCTAssertEqual(loss(), Double(scale) * reference, accuracy: 1e-5)
        let dLogits = FloatBuffer.zeros(count: n * c)
        dLogits.pointer.update(repeating: 123, count: n * c)
        SoftmaxCrossEntropy.backward(probs: probs.pointer, targets: targets, rows: n, classes: c, scale: scale, dLogits: dLogits.pointer)
        let significant = assertGradientsMatch("dLogits", indices: Array(0..<(n * c)),
                                               analytic: { Double(dLogits.pointer[$0]) },
                                               numeric: { numericDerivative(logits.pointer, $0, eps: 1e-2, loss) })
        XCTAssertGreaterThan(significant, n * c / 2)
    }

    // MARK: LSTMLayer

    /// Everything one LSTMLayer check needs, for a batch of given lengths.
    private func checkLSTMLayer(lengths: [Int], inputDim i: Int, hiddenDim h: Int, seed: UInt64,
                                file: StaticString = #filePath, line: UInt = #line) {
        var rng = SeededGenerator(seed: seed)
        let batch = PackedBatch()
        batch.pack(lengths.map { ArraySlice([Int32](repeating: 0, count: $0)) })
        let n = batch.totalRows, g4 = 4 * h
        XCTAssertEqual(n, lengths.reduce(0, +), file: file, line: line)
        let x = randomBuffer(n * i, &rng)
        let wIH = randomBuffer(g4 * i, &rng, -0.8, 0.8)
        let wHH = randomBuffer(g4 * h, &rng, -0.8, 0.8)
        let bias = randomBuffer(g4, &rng, -0.8, 0.8)
        let r = randomBuffer(n * h, &rng)
        let gates = FloatBuffer.zeros(count: n * g4), cells = FloatBuffer.zeros(count: n * h), hidden = FloatBuffer.zeros(count: n * h)
        func loss() -> Double {
            LSTMLayer.forward(x: x.pointer, inputDim: i, hiddenDim: h, weightIH: wIH.pointer, weightHH: wHH.pointer,
                              bias: bias.pointer, batch: batch, gates: gates.pointer, cells: cells.pointer, hidden: hidden.pointer)
            return weightedSum(hidden.pointer, r.pointer, n * h)
        }
        _ = loss()
        let previousIH = randomBuffer(g4 * i, &rng), previousHH = randomBuffer(g4 * h, &rng), previousB = randomBuffer(g4, &rng)
        let dIH = copyBuffer(previousIH, g4 * i), dHH = copyBuffer(previousHH, g4 * h), dB = copyBuffer(previousB, g4)
        let dX = FloatBuffer.zeros(count: n * i)
        dX.pointer.update(repeating: 123, count: n * i)
        let dHidden = copyBuffer(r, n * h)
        // Scratch filled with garbage: backward must not depend on its contents.
        let dGates = randomBuffer(n * g4, &rng, 50, 60), carry = randomBuffer(lengths.count * h, &rng, 50, 60)
        let previousHidden = randomBuffer(n * h, &rng, 50, 60), zeros = randomBuffer(h, &rng, 50, 60)
        LSTMLayer.backward(x: x.pointer, inputDim: i, hiddenDim: h, weightIH: wIH.pointer, weightHH: wHH.pointer,
                           batch: batch, gates: gates.pointer, cells: cells.pointer, hidden: hidden.pointer,
                           dHidden: dHidden.pointer, dWeightIH: dIH.pointer, dWeightHH: dHH.pointer, dBias: dB.pointer,
                           dX: dX.pointer, dGates: dGates.pointer, carry: carry.pointer,
                           previousHidden: previousHidden.pointer, zeros: zeros.pointer)
        let eps: Float = 1e-2
        var significant = 0
        significant += assertGradientsMatch("lstm dX \(lengths)", indices: Array(0..<(n * i)), file: file, line: line,
                                            analytic: { Double(dX.pointer[$0]) },
                                            numeric: { numericDerivative(x.pointer, $0, eps: eps, loss) })
        significant += assertGradientsMatch("lstm dWeightIH \(lengths)", indices: Array(0..<(g4 * i)), file: file, line: line,
                                            analytic: { Double(dIH.pointer[$0] - previousIH.pointer[$0]) },
                                            numeric: { numericDerivative(wIH.pointer, $0, eps: eps, loss) })
        let hh = assertGradientsMatch("lstm dWeightHH \(lengths)", indices: Array(0..<(g4 * h)), file: file, line: line,
                                      analytic: { Double(dHH.pointer[$0] - previousHH.pointer[$0]) },
                                      numeric: { numericDerivative(wHH.pointer, $0, eps: eps, loss) })
        significant += assertGradientsMatch("lstm dBias \(lengths)", indices: Array(0..<g4), file: file, line: line,
                                            analytic: { Double(dB.pointer[$0] - previousB.pointer[$0]) },
                                            numeric: { numericDerivative(bias.pointer, $0, eps: eps, loss) })
        XCTAssertGreaterThan(significant, (n * i + g4 * i + g4) / 2, file: file, line: line)
        if (lengths.first ?? 0) > 1 { XCTAssertGreaterThan(hh, g4 * h / 2, file: file, line: line) }
    }

    func testLSTMLayerBackwardMixedLengths() {
        // Several lengths, two of them equal, and one length-1 sequence.
        checkLSTMLayer(lengths: [5, 3, 3, 1], inputDim: 3, hiddenDim: 4, seed: 21)
    }

    func testLSTMLayerBackwardSeveralLengthOneSequences() {
        checkLSTMLayer(lengths: [4, 2, 1, 1], inputDim: 2, hiddenDim: 3, seed: 22)
    }

    func testLSTMLayerBackwardSingleStep() {
        // Only one time step: no recurrent product at all (dWeightHH must stay zero).
        checkLSTMLayer(lengths: [1, 1, 1], inputDim: 3, hiddenDim: 2, seed: 23)
    }

    func testLSTMLayerBackwardOneSequence() {
        checkLSTMLayer(lengths: [6], inputDim: 2, hiddenDim: 3, seed: 24)
    }

    // MARK: the whole network

    /// Cross-entropy gradient of every parameter tensor of an LSTM RecurrentNetwork on one batch.
    private func checkNetwork(layers: Int, pooling: Config.Pooling = .last, sequences: [[Int32]], targets: [Int32], vocab: Int, classes: Int,
                              seed: UInt64, file: StaticString = #filePath, line: UInt = #line) {
        var model = Config.Model()
        model.embeddingDim = 4
        model.hiddenDim = 5
        model.layers = layers
        model.pooling = pooling
        let network = Network.make(configOf(model), vocabulary: vocab, classes: classes)
        var rng = SeededGenerator(seed: seed)
        let count = network.layout.count
        let params = FloatBuffer.zeros(count: count)
        network.initialize(params.pointer, rng: &rng)
        // Larger recurrent and output weights than the defaults, so every gate works
        // away from its linear region and gradients reach the lower layers clearly.
        for t in network.layout.tensors where t.name != "embedding.weight" {
            for k in 0..<t.count { params.pointer[t.offset + k] *= 2 }
        }
        let ws = network.makeWorkspace()
        let scale: Float = 1.5
        func loss() -> Double {
            ws.batch.pack(sequences.map { $0[...] })
            network.forward(params.pointer, batch: ws.batch, workspace: ws)
            return Double(scale) * SoftmaxCrossEntropy.loss(probs: network.outputs(ws), targets: targets, rows: sequences.count, classes: classes)
        }
        _ = loss()
        let previous = randomBuffer(count, &rng)
        let grads = copyBuffer(previous, count)
        targets.withUnsafeBufferPointer {
            network.backward(params.pointer, batch: ws.batch, targets: $0.baseAddress!, scale: scale, workspace: ws, grads: grads.pointer)
        }
        let used = Set(sequences.joined().map { Int($0) })
        var checkedTensors = [String]()
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
                indices = sampleIndices(t.count, limit: 120, &rng)
            }
            let significant = assertGradientsMatch("\(layers)-layer \(pooling)-pooled network \(t.name)", indices: indices.map { t.offset + $0 },
                                                   file: file, line: line,
                                                   analytic: { Double(grads.pointer[$0] - previous.pointer[$0]) },
                                                   numeric: { numericDerivative(params.pointer, $0, eps: 1e-2, loss) })
            XCTAssertGreaterThan(significant, 0, "\(t.name): no coordinate had a clearly non-zero gradient", file: file, line: line)
            checkedTensors.append(t.name)
        }
        var expected = ["embedding.weight"]
        for l in 0..<layers { expected += ["lstm.\(l).weight_ih", "lstm.\(l).weight_hh", "lstm.\(l).bias"] }
        expected += ["output.weight", "output.bias"]
        XCTAssertEqual(checkedTensors, expected, file: file, line: line)
    }

    func testNetworkGradientOneLayer() {
        checkNetwork(layers: 1, sequences: [[3, 7, 2, 9, 4], [5, 5, 8], [10, 3, 1], [6]], targets: [0, 2, 1, 1],
                     vocab: 12, classes: 3, seed: 31)
    }

    func testNetworkGradientTwoStackedLayers() {
        checkNetwork(layers: 2, sequences: [[3, 7, 2, 9, 4, 2], [5, 5, 8], [10, 3, 1], [6], [11]], targets: [0, 2, 1, 1, 0],
                     vocab: 13, classes: 3, seed: 32)
    }

    func testNetworkGradientWithAnEmptyText() {
        // An empty text (every token dropped by the tokenizer) pools to zeros and still
        // contributes to the output layer's gradient.
        checkNetwork(layers: 2, sequences: [[4, 1, 2, 5, 3], [3, 2], []], targets: [1, 0, 1], vocab: 6, classes: 2, seed: 33)
    }

    func testNetworkGradientMeanPooling() {
        checkNetwork(layers: 2, pooling: .mean, sequences: [[3, 7, 2, 9, 4], [5, 5, 8], [10, 3, 1], [6], []],
                     targets: [0, 2, 1, 1, 2], vocab: 12, classes: 3, seed: 34)
    }

    func testNetworkGradientMaxPooling() {
        checkNetwork(layers: 2, pooling: .max, sequences: [[3, 7, 2, 9, 4], [5, 5, 8], [10, 3, 1], [6], []],
                     targets: [0, 2, 1, 1, 2], vocab: 12, classes: 3, seed: 35)
    }

    // MARK: SequencePooling

    func testSequencePoolingForwardAndBackward() {
        let lengths = [4, 3, 3, 1, 0]
        let h = 3
        let batch = PackedBatch()
        batch.pack(lengths.map { ArraySlice([Int32](repeating: 0, count: $0)) })
        let n = batch.totalRows, size = lengths.count
        for pooling in SequencePooling.allCases {
            var rng = SeededGenerator(seed: 40)
            let hidden = randomBuffer(n * h, &rng)
            let r = randomBuffer(size * h, &rng)
            let pooled = FloatBuffer.zeros(count: size * h)
            let argmax = IndexBuffer.zeros(count: size * h)
            func loss() -> Double {
                pooling.forward(hidden: hidden.pointer, width: h, batch: batch, pooled: pooled.pointer, argmax: argmax.pointer)
                return weightedSum(pooled.pointer, r.pointer, size * h)
            }
            _ = loss()
            // Reference, from the packing contract: row (t, b) sits at stepOffsets[t] + b.
            for (b, length) in lengths.enumerated() {
                for j in 0..<h {
                    let states = (0..<length).map { hidden.pointer[(batch.stepOffsets[$0] + b) * h + j] }
                    let expected: Float
                    switch pooling {
                    case .last: expected = states.last ?? 0
                    case .mean: expected = states.isEmpty ? 0 : Float(states.reduce(0.0) { $0 + Double($1) } / Double(length))
                    case .max: expected = states.max() ?? 0
                    }
                    XCTAssertEqual(pooled.pointer[b * h + j], expected, accuracy: 1e-6, "\(pooling) b=\(b) j=\(j)")
                }
            }
            let previous = randomBuffer(n * h, &rng)
            let dHidden = copyBuffer(previous, n * h)
            pooling.backward(dPooled: r.pointer, width: h, batch: batch, argmax: argmax.pointer, dHidden: dHidden.pointer)
            let significant = assertGradientsMatch("\(pooling) pooling", indices: Array(0..<(n * h)),
                                                   analytic: { Double(dHidden.pointer[$0] - previous.pointer[$0]) },
                                                   numeric: { numericDerivative(hidden.pointer, $0, eps: 1e-3, loss) })
            XCTAssertGreaterThanOrEqual(significant, (size - 1) * h, "\(pooling)")
        }
    }

    /// The checker itself must be able to fail: a gradient off by 5% is caught.
    func testGradientComparisonDetectsAWrongGradient() {
        XCTAssertGreaterThan(gradientError(1.05, 1.0), 1e-2)
        XCTAssertGreaterThan(gradientError(0.021, 0.02), 1e-2)
        XCTAssertLessThan(gradientError(0.02, 0.02 + 1e-5), 1e-2)
        XCTAssertGreaterThan(gradientError(0.0, 0.05), 1e-2)
    }
}
