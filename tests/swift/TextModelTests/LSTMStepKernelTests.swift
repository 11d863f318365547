import XCTest
@testable import TextModel
import CKernels

/// The AVX2 copy of the LSTM step (CKernels) gives the Swift loop's floats, bit for bit.
final class LSTMStepKernelTests: XCTestCase {
    func testAVX2StepMatchesTheSwiftLoop() throws {
        try XCTSkipUnless(LSTMLayer.avx2, "this CPU has no AVX2")
        // Odd H leaves a remainder past the vector lanes; values span the clamp of fastExp.
        for (rows, h) in [(3, 13), (5, 128), (1, 1)] {
            var rng = SeededGenerator(seed: UInt64(rows * 1000 + h))
            let scales: [Float] = [0.5, 4, 40, 200]
            let pre = (0..<(rows * 4 * h)).map { k in rng.uniform(-1, 1) * scales[k % scales.count] }
            let previous = (0..<(rows * h)).map { _ in rng.uniform(-3, 3) }
            for first in [false, true] {
                func run(_ kernel: Bool) -> [Float] {
                    var gates = pre, cells = [Float](repeating: 0, count: rows * h), hidden = cells
                    previous.withUnsafeBufferPointer { prev in
                        let p = first ? nil : prev.baseAddress
                        if kernel {
                            tm_lstm_step_avx2(&gates, &cells, &hidden, p, rows, h)
                        } else {
                            LSTMLayer.step(gates: &gates, cells: &cells, hidden: &hidden, previousCells: p, rows: rows, hiddenDim: h)
                        }
                    }
                    return gates + cells + hidden
                }
                XCTAssertEqual(run(true).map(\.bitPattern), run(false).map(\.bitPattern), "rows \(rows) h \(h) first \(first)")
            }
        }
    }

    func testAVX2BackwardStepMatchesTheSwiftLoop() throws {
        try XCTSkipUnless(LSTMLayer.avx2, "this CPU has no AVX2")
        for (rows, h) in [(3, 13), (5, 128), (1, 1)] {
            var rng = SeededGenerator(seed: UInt64(rows * 7919 + h))
            // Activated gates lie in (0, 1) (i, f, o) and (−1, 1) (g).
            let gates = (0..<(rows * 4 * h)).map { k -> Float in
                let u: Float = rng.uniform(0, 1)
                return (k / h) % 4 == 2 ? 2 * u - 1 : u
            }
            let cells = (0..<(rows * h)).map { _ in rng.uniform(-30, 30) }
            let previous = (0..<(rows * h)).map { _ in rng.uniform(-3, 3) }
            let dHidden = (0..<(rows * h)).map { _ in rng.uniform(-2, 2) }
            let carryIn = (0..<(rows * h)).map { _ in rng.uniform(-2, 2) }
            for first in [false, true] {
                func run(_ kernel: Bool) -> [Float] {
                    var carry = carryIn, dGates = [Float](repeating: 0, count: rows * 4 * h)
                    previous.withUnsafeBufferPointer { prev in
                        let p = first ? nil : prev.baseAddress
                        if kernel {
                            tm_lstm_backward_step_avx2(gates, cells, p, dHidden, &carry, &dGates, rows, h)
                        } else {
                            LSTMLayer.backwardStep(gates: gates, cells: cells, previousCells: p, dHidden: dHidden,
                                                   carry: &carry, dGates: &dGates, rows: rows, hiddenDim: h)
                        }
                    }
                    return carry + dGates
                }
                XCTAssertEqual(run(true).map(\.bitPattern), run(false).map(\.bitPattern), "rows \(rows) h \(h) first \(first)")
            }
        }
    }
}
