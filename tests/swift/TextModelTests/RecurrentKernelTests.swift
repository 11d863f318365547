import XCTest
@testable import TextModel
import CKernels

/// The AVX-512 kernels of CKernels against plain Swift references, bit for bit: the
/// packed step product (each element's k products added in order of k with fused
/// multiply-adds), the fused LSTM step, and Adam's update. The gradient checks
/// (GradientCheckTests, RecurrentTests) run the layers through the same kernels.
final class RecurrentKernelTests: XCTestCase {
    /// c [m × n] += a [m × k] · B, B [k × n] read from `w` as stored ([n × k] when `transposed`).
    private func reference(m: Int, n: Int, k: Int, a: [Float], w: [Float], transposed: Bool, c: inout [Float]) {
        for i in 0..<m {
            for j in 0..<n {
                var acc = c[i * n + j]
                for p in 0..<k { acc = acc.addingProduct(a[i * k + p], transposed ? w[j * k + p] : w[p * n + j]) }
                c[i * n + j] = acc
            }
        }
    }

    func testPackedProductMatchesOrderedFusedMultiplyAdds() throws {
        try XCTSkipUnless(tm_kernels_avx512() != 0 && tm_kernels_avx2() != 0, "this CPU has no AVX-512")
        // Widths off the 16-lane vectors and the 64-column panels, rows off the 6-row blocks.
        for (m, n, k) in [(32, 512, 128), (7, 100, 50), (1, 17, 3), (13, 128, 512), (25, 300, 77), (6, 64, 1)] {
            var rng = SeededGenerator(seed: UInt64(m * 7 + n * 13 + k))
            let a = (0..<(m * k)).map { _ in rng.uniform(-1, 1) }
            let w = (0..<(n * k)).map { _ in rng.uniform(-1, 1) }
            let start = (0..<(m * n)).map { _ in rng.uniform(-1, 1) }
            for transposed in [false, true] {
                var expected = start, got = start
                reference(m: m, n: n, k: k, a: a, w: w, transposed: transposed, c: &expected)
                var packed = [Float](repeating: .nan, count: tm_packed_panels_floats(k, n))
                tm_pack_panels(k, n, w, transposed ? k : n, transposed ? 1 : 0, &packed)
                tm_gemm_packed_avx512(m, n, k, a, k, packed, &got, n)
                XCTAssertEqual(got.map(\.bitPattern), expected.map(\.bitPattern), "m \(m) n \(n) k \(k) transposed \(transposed)")
            }
        }
    }

    func testBatchProductMatchesOrderedFusedMultiplyAdds() throws {
        try XCTSkipUnless(tm_kernels_avx512() != 0 && tm_kernels_avx2() != 0, "this CPU has no AVX-512")
        // The weight-gradient shape (A transposed, k the batch rows) and the input-gradient one.
        for (m, n, k) in [(512, 100, 70), (48, 128, 33), (70, 100, 512), (7, 17, 3)] {
            var rng = SeededGenerator(seed: UInt64(m + n + k))
            let a = (0..<(m * k)).map { _ in rng.uniform(-1, 1) }
            let b = (0..<(k * n)).map { _ in rng.uniform(-1, 1) }
            let start = (0..<(m * n)).map { _ in rng.uniform(-1, 1) }
            for transA in [false, true] {
                // The reference reads a row-major [m × k]; the kernel gets the transpose when transA.
                let stored = transA ? (0..<(k * m)).map { a[($0 % m) * k + $0 / m] } : a
                var expected = start, got = start
                reference(m: m, n: n, k: k, a: a, w: b, transposed: false, c: &expected)
                stored.withUnsafeBufferPointer { sa in
                    b.withUnsafeBufferPointer { sb in
                        got.withUnsafeMutableBufferPointer { sc in
                            tm_gemm_avx512(transA ? 1 : 0, m, n, k, sa.baseAddress!, transA ? m : k, sb.baseAddress!, n,
                                           sc.baseAddress!, n)
                        }
                    }
                }
                XCTAssertEqual(got.map(\.bitPattern), expected.map(\.bitPattern), "m \(m) n \(n) k \(k) transA \(transA)")
            }
        }
    }

    func testFusedLSTMStepIsTheProductThenTheStep() throws {
        try XCTSkipUnless(tm_kernels_avx512() != 0 && tm_kernels_avx2() != 0, "this CPU has no AVX-512")
        for (rows, h) in [(13, 20), (32, 128), (1, 5)] {
            var rng = SeededGenerator(seed: UInt64(rows * 100 + h))
            let g4 = 4 * h
            let pre = (0..<(rows * g4)).map { _ in rng.uniform(-2, 2) }
            let previousHidden = (0..<(rows * h)).map { _ in rng.uniform(-1, 1) }
            let previousCells = (0..<(rows * h)).map { _ in rng.uniform(-2, 2) }
            let w = (0..<(g4 * h)).map { _ in rng.uniform(-0.5, 0.5) }
            var expectedGates = pre
            reference(m: rows, n: g4, k: h, a: previousHidden, w: w, transposed: true, c: &expectedGates)
            var expectedCells = [Float](repeating: 0, count: rows * h), expectedHidden = expectedCells
            LSTMLayer.step(gates: &expectedGates, cells: &expectedCells, hidden: &expectedHidden,
                           previousCells: previousCells, rows: rows, hiddenDim: h)
            var packed = [Float](repeating: 0, count: tm_packed_panels_floats(h, g4))
            tm_pack_panels(h, g4, w, h, 1, &packed)
            var gates = pre, cells = [Float](repeating: 0, count: rows * h), hidden = cells
            tm_lstm_step_fused_avx512(rows, h, previousHidden, packed, &gates, &cells, &hidden, previousCells)
            XCTAssertEqual(gates.map(\.bitPattern), expectedGates.map(\.bitPattern), "gates rows \(rows) h \(h)")
            XCTAssertEqual(cells.map(\.bitPattern), expectedCells.map(\.bitPattern), "cells rows \(rows) h \(h)")
            XCTAssertEqual(hidden.map(\.bitPattern), expectedHidden.map(\.bitPattern), "hidden rows \(rows) h \(h)")
        }
    }

    func testAdamKernelMatchesTheSwiftLoop() throws {
        try XCTSkipUnless(Adam.avx512, "this CPU has no AVX-512")
        let count = 1000 + 7   // a tail past the 16 lanes
        for (weightDecay, decoupled) in [(0.0, false), (0.01, false), (0.01, true)] {
            var rng = SeededGenerator(seed: 5)
            let params0 = randomBuffer(count, &rng), grads0 = randomBuffer(count, &rng, -3, 3)
            let m0 = randomBuffer(count, &rng, -0.1, 0.1), v0 = randomBuffer(count, &rng, 0, 0.01)
            func run(kernel: Bool) -> [Float] {
                let params = copyBuffer(params0, count), grads = copyBuffer(grads0, count)
                let m = copyBuffer(m0, count), v = copyBuffer(v0, count)
                var adam = Adam(learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: weightDecay,
                                decoupled: decoupled, m: m, v: v)
                for _ in 0..<3 {
                    adam.beginStep(learningRateScale: 1)
                    // Ranges that start off a vector boundary, as the workers' shares do.
                    for range in [0..<333, 333..<count] {
                        if kernel { adam.update(params: params.pointer, grads: grads.pointer, range: range) }
                        else { adam.loopUpdate(params: params.pointer, grads: grads.pointer, range: range) }
                    }
                    grads.pointer.update(from: grads0.pointer, count: count)
                }
                return array(params.pointer, count) + array(m.pointer, count) + array(v.pointer, count)
            }
            XCTAssertEqual(run(kernel: true).map(\.bitPattern), run(kernel: false).map(\.bitPattern),
                           "weight decay \(weightDecay) decoupled \(decoupled)")
        }
    }

    /// Every text alone gives the bits it gets in a batch of 600, for stacked bidirectional
    /// networks too, whose upper layers' input projections run on batch-wide matrices
    /// (through OpenBLAS, three of ten texts differed in their last bits).
    func testATextAloneMatchesItsRowInABatchForStackedBidirectionalNetworks() throws {
        try XCTSkipUnless(RecurrentProduct.packed, "the packed kernel is off (no AVX-512, or TEXTMODEL_RECURRENT_KERNEL=blas): OpenBLAS does not promise it")
        for type in ["lstm", "gru"] {
            var c = tinyConfig(embedding: 6, hidden: 7, layers: 2)
            c.model.type = Config.ModelType(rawValue: type)!
            c.model.bidirectional = true
            c.model.pooling = .mean
            let model = randomModel(config: c, texts: NetworkTests.texts, labels: NetworkTests.labels, seed: 21)
            func outputs(_ texts: [String]) -> [Float] {
                var out = [Float](repeating: .nan, count: texts.count * model.width)
                try! out.withUnsafeMutableBufferPointer { try model.outputs(of: texts, into: $0.baseAddress!, threads: 1) }
                return out
            }
            let many = (0..<600).map { NetworkTests.texts[($0 * 7) % NetworkTests.texts.count] }
            let batch = outputs(many)
            for text in NetworkTests.texts {
                guard let row = many.firstIndex(of: text) else { continue }
                XCTAssertEqual(outputs([text]).map(\.bitPattern),
                               Array(batch[(row * model.width)..<((row + 1) * model.width)]).map(\.bitPattern), "\(type): \(text)")
            }
        }
    }
}
