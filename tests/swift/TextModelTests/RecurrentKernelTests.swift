import XCTest
@testable import TextModel
import CKernels

/// The packed kernels of CKernels (AVX-512 and AVX2 + FMA, each where the CPU has it)
/// against plain Swift references, bit for bit: the packed step product (each element's
/// k products added in order of k with fused multiply-adds), the fused LSTM step, and
/// Adam's update. So both kernels give the same floats. The gradient checks
/// (GradientCheckTests, RecurrentTests) run the layers through the chosen kernel.
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

    /// The packed kernels this CPU runs, whichever RecurrentProduct.kernel chose.
    private var kernels: [RecurrentProduct.Kernel] {
        (tm_kernels_avx512() != 0 && tm_kernels_fma() != 0 ? [.avx512] : []) + (tm_kernels_fma() != 0 ? [.avx2] : [])
    }

    private func skipWithoutKernels() throws {
        try XCTSkipIf(kernels.isEmpty, "this CPU has neither AVX-512 nor AVX2 with FMA")
    }

    private func gemm(_ kernel: RecurrentProduct.Kernel, transposedA: Bool, m: Int, n: Int, k: Int,
                      a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                      c: UnsafeMutablePointer<Float>, ldc: Int) {
        switch kernel {
        case .avx512: tm_gemm_avx512(transposedA ? 1 : 0, m, n, k, a, lda, b, ldb, c, ldc)
        case .avx2: tm_gemm_avx2(transposedA ? 1 : 0, m, n, k, a, lda, b, ldb, c, ldc)
        }
    }

    func testPackedProductMatchesOrderedFusedMultiplyAdds() throws {
        try skipWithoutKernels()
        // Widths off the 8- and 16-lane vectors, the 16-column strips and the 64-column
        // panels, rows off the 6-row blocks.
        for (m, n, k) in [(32, 512, 128), (7, 100, 50), (1, 17, 3), (13, 128, 512), (25, 300, 77), (6, 64, 1),
                          (20, 12, 9), (2, 5, 200)] {
            var rng = SeededGenerator(seed: UInt64(m * 7 + n * 13 + k))
            let a = (0..<(m * k)).map { _ in rng.uniform(-1, 1) }
            let w = (0..<(n * k)).map { _ in rng.uniform(-1, 1) }
            let start = (0..<(m * n)).map { _ in rng.uniform(-1, 1) }
            for transposed in [false, true] {
                var expected = start
                reference(m: m, n: n, k: k, a: a, w: w, transposed: transposed, c: &expected)
                var packed = [Float](repeating: .nan, count: tm_packed_panels_floats(k, n))
                tm_pack_panels(k, n, w, transposed ? k : n, transposed ? 1 : 0, &packed)
                for kernel in kernels {
                    var got = start
                    switch kernel {
                    case .avx512: tm_gemm_packed_avx512(m, n, k, a, k, packed, &got, n)
                    case .avx2: tm_gemm_packed_avx2(m, n, k, a, k, packed, &got, n)
                    }
                    XCTAssertEqual(got.map(\.bitPattern), expected.map(\.bitPattern),
                                   "\(kernel) m \(m) n \(n) k \(k) transposed \(transposed)")
                }
            }
        }
    }

    func testBatchProductMatchesOrderedFusedMultiplyAdds() throws {
        try skipWithoutKernels()
        // The weight-gradient shape (A transposed, k the batch rows) and the input-gradient
        // one; k past the AVX2 kernel's slices of 128.
        for (m, n, k) in [(512, 100, 70), (48, 128, 33), (70, 100, 512), (7, 17, 3), (9, 40, 300)] {
            var rng = SeededGenerator(seed: UInt64(m + n + k))
            let a = (0..<(m * k)).map { _ in rng.uniform(-1, 1) }
            let b = (0..<(k * n)).map { _ in rng.uniform(-1, 1) }
            let start = (0..<(m * n)).map { _ in rng.uniform(-1, 1) }
            for transA in [false, true] {
                // The reference reads a row-major [m × k]; the kernel gets the transpose when transA.
                let stored = transA ? (0..<(k * m)).map { a[($0 % m) * k + $0 / m] } : a
                var expected = start
                reference(m: m, n: n, k: k, a: a, w: b, transposed: false, c: &expected)
                for kernel in kernels {
                    var got = start
                    stored.withUnsafeBufferPointer { sa in
                        b.withUnsafeBufferPointer { sb in
                            got.withUnsafeMutableBufferPointer { sc in
                                gemm(kernel, transposedA: transA, m: m, n: n, k: k, a: sa.baseAddress!, lda: transA ? m : k,
                                     b: sb.baseAddress!, ldb: n, c: sc.baseAddress!, ldc: n)
                            }
                        }
                    }
                    XCTAssertEqual(got.map(\.bitPattern), expected.map(\.bitPattern),
                                   "\(kernel) m \(m) n \(n) k \(k) transA \(transA)")
                }
            }
        }
    }

    func testFusedLSTMStepIsTheProductThenTheStep() throws {
        try skipWithoutKernels()
        for (rows, h) in [(13, 20), (32, 128), (1, 5), (20, 3)] {
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
            for kernel in kernels {
                var gates = pre, cells = [Float](repeating: 0, count: rows * h), hidden = cells
                switch kernel {
                case .avx512: tm_lstm_step_fused_avx512(rows, h, previousHidden, packed, &gates, &cells, &hidden, previousCells)
                case .avx2: tm_lstm_step_fused_avx2(rows, h, previousHidden, packed, &gates, &cells, &hidden, previousCells)
                }
                XCTAssertEqual(gates.map(\.bitPattern), expectedGates.map(\.bitPattern), "\(kernel) gates rows \(rows) h \(h)")
                XCTAssertEqual(cells.map(\.bitPattern), expectedCells.map(\.bitPattern), "\(kernel) cells rows \(rows) h \(h)")
                XCTAssertEqual(hidden.map(\.bitPattern), expectedHidden.map(\.bitPattern), "\(kernel) hidden rows \(rows) h \(h)")
            }
        }
    }

    func testAdamKernelMatchesTheSwiftLoop() throws {
        try XCTSkipIf(Adam.lanes == 0, "this CPU has neither AVX-512 nor AVX2")
        let count = 1000 + 7   // a tail past the 16 and the 8 lanes
        let kernelLanes = Adam.lanes == 16 ? [16, 8] : [8]
        for (weightDecay, decoupled) in [(0.0, false), (0.01, false), (0.01, true)] {
            var rng = SeededGenerator(seed: 5)
            let params0 = randomBuffer(count, &rng), grads0 = randomBuffer(count, &rng, -3, 3)
            let m0 = randomBuffer(count, &rng, -0.1, 0.1), v0 = randomBuffer(count, &rng, 0, 0.01)
            func run(lanes: Int) -> [Float] {
                let params = copyBuffer(params0, count), grads = copyBuffer(grads0, count)
                let m = copyBuffer(m0, count), v = copyBuffer(v0, count)
                var adam = Adam(learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: weightDecay,
                                decoupled: decoupled, m: m, v: v)
                for _ in 0..<3 {
                    adam.beginStep(learningRateScale: 1)
                    // Ranges that start off a vector boundary, as the workers' shares do.
                    for range in [0..<333, 333..<count] {
                        adam.update(params: params.pointer, grads: grads.pointer, range: range, lanes: lanes)
                    }
                    grads.pointer.update(from: grads0.pointer, count: count)
                }
                return array(params.pointer, count) + array(m.pointer, count) + array(v.pointer, count)
            }
            let loop = run(lanes: 0).map(\.bitPattern)
            for lanes in kernelLanes {
                XCTAssertEqual(run(lanes: lanes).map(\.bitPattern), loop, "\(lanes) lanes weight decay \(weightDecay) decoupled \(decoupled)")
            }
        }
    }

    /// Every text alone gives the bits it gets in a batch of 600, for stacked bidirectional
    /// networks too, whose upper layers' input projections run on batch-wide matrices
    /// (through OpenBLAS, three of ten texts differed in their last bits).
    func testATextAloneMatchesItsRowInABatchForStackedBidirectionalNetworks() throws {
        try XCTSkipUnless(RecurrentProduct.packed, "the packed kernel is off (neither AVX-512 nor AVX2 with FMA, or TEXTMODEL_RECURRENT_KERNEL=blas): OpenBLAS does not promise it")
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
