import XCTest
@testable import TextModel
import CKernels

/// tm_linear_row_fma (the one-text head) gives Linear.forward's floats through OpenBLAS
/// for one row, bit for bit, wherever Network.head uses it (OpenBLAS's Haswell kernel).
final class LinearRowKernelTests: XCTestCase {
    func testOneRowEqualsOpenBLAS() throws {
        try XCTSkipUnless(Network.oneRowHead, "OpenBLAS does not run its Haswell kernel here, or the CPU has no FMA")
        var rng = SeededGenerator(seed: 7)
        for inputs in [1, 2, 7, 8, 16, 31, 64, 100, 128, 200, 256] {
            for outputs in [1, 2, 3, 4, 5, 9, 17] {
                let x = (0..<inputs).map { _ in rng.uniform(-3, 3) }
                let w = (0..<(inputs * outputs)).map { _ in rng.uniform(-1, 1) }
                let bias = (0..<outputs).map { _ in rng.uniform(-1, 1) }
                var viaBLAS = [Float](repeating: .nan, count: outputs), viaKernel = viaBLAS
                Linear.forward(x: x, rows: 1, inputDim: inputs, outputDim: outputs, weight: w, bias: bias, out: &viaBLAS)
                tm_linear_row_fma(x, w, bias, inputs, outputs, &viaKernel)
                XCTAssertEqual(viaKernel.map(\.bitPattern), viaBLAS.map(\.bitPattern), "\(inputs) inputs, \(outputs) outputs")
            }
        }
    }
}
