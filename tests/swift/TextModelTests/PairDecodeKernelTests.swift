import XCTest
@testable import TextModel
import CKernels

/// The AVX2 copy of a product-quantized row's sum with dsub 2 (CKernels/pq_decode.c)
/// gives ProductQuantizer.addDecoded's floats, bit for bit.
final class PairDecodeKernelTests: XCTestCase {
    func testAVX2AddMatchesTheSwiftLoop() throws {
        try XCTSkipUnless(tm_kernels_avx2() != 0, "this CPU has no AVX2")
        // m = 1, 3: the scalar tail alone; 4, 8: whole vectors; 7, 50: both.
        for m in [1, 3, 4, 7, 8, 50] {
            var rng = SeededGenerator(seed: UInt64(m))
            let ksub = 256
            let books = (0..<(m * ksub * 2)).map { _ in rng.uniform(-1, 1) * 100 }
            var kernel = (0..<(2 * m)).map { _ in rng.uniform(-1, 1) }, swift = kernel
            for _ in 0..<5 {
                let code = (0..<m).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                let weight = rng.uniform(0, 3)
                tm_pq2_add_row_avx2(code, books, m, ksub, weight, &kernel)
                ProductQuantizer.addDecoded(code, codebooks: books, subspaces: m, dsub: 2, ksub: ksub, weight: weight, into: &swift)
            }
            XCTAssertEqual(kernel.map(\.bitPattern), swift.map(\.bitPattern), "m = \(m)")
        }
    }
}
