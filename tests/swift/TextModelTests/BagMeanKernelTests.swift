import XCTest
@testable import TextModel
import CKernels

/// The AVX2 copy of the bag model's mean row (CKernels) gives the Swift loop's floats,
/// bit for bit, for texts of a packed batch.
final class BagMeanKernelTests: XCTestCase {
    func testAVX2MeanMatchesTheSwiftLoop() throws {
        try XCTSkipUnless(InputStage.avx2, "this CPU has no AVX2")
        // Odd E leaves a remainder past the vector lanes (4: a 4-lane block alone; 13, 36, 100,
        // 103: 8- and 4-lane blocks in the last pass); lengths 0 and 1 are the edges.
        for e in [1, 4, 13, 36, 100, 103] {
            var rng = SeededGenerator(seed: UInt64(e))
            let vocabulary = 50
            let table = (0..<(vocabulary * e)).map { _ in rng.uniform(-1, 1) * 1000 }
            let texts: [[Int32]] = [(0..<37).map { _ in Int32(rng.next() % UInt64(vocabulary)) }, [3, 3, 49], [7], []]
            let batch = PackedBatch()
            batch.pack(texts.map { $0[...] })
            for b in texts.indices {
                func run(_ kernel: Bool) -> [Float] {
                    var out = [Float](repeating: .nan, count: e)
                    batch.tokens.withUnsafeBufferPointer { ids in
                        batch.stepOffsets.withUnsafeBufferPointer { offsets in
                            if kernel {
                                tm_bag_mean_avx2(table, e, ids.baseAddress!, offsets.baseAddress!, b, texts[b].count, 4, &out)
                            } else {
                                InputStage.bagMean(rows: table, dim: e, ids: ids.baseAddress!, offsets: offsets.baseAddress!,
                                                   text: b, length: texts[b].count, into: &out)
                            }
                        }
                    }
                    return out
                }
                XCTAssertEqual(run(true).map(\.bitPattern), run(false).map(\.bitPattern), "e \(e) text \(b)")
            }
        }
    }

    func testAVX2Int8MeanMatchesTheSwiftLoop() throws {
        try XCTSkipUnless(InputStage.avx2, "this CPU has no AVX2")
        // E 1, 13 and 103 leave remainders past the vector lanes; 4, 36 and 100 end with a 4-lane
        // block; 72 and 100 run a 64-lane pass, then 8-lane blocks.
        for e in [1, 4, 13, 36, 72, 100, 103] {
            var rng = SeededGenerator(seed: UInt64(e) + 7)
            let vocabulary = 50
            let values = (0..<(vocabulary * e)).map { _ in Int8(Int(rng.next() % 255) - 127) }
            let scales = (0..<vocabulary).map { _ in rng.uniform(0.001, 3) }
            let texts: [[Int32]] = [(0..<37).map { _ in Int32(rng.next() % UInt64(vocabulary)) }, [3, 3, 49], [7], []]
            let batch = PackedBatch()
            batch.pack(texts.map { $0[...] })
            for b in texts.indices {
                func run(_ kernel: Bool) -> [Float] {
                    var out = [Float](repeating: .nan, count: e)
                    batch.tokens.withUnsafeBufferPointer { ids in
                        batch.stepOffsets.withUnsafeBufferPointer { offsets in
                            if kernel {
                                tm_bag_mean_int8_avx2(values, scales, e, ids.baseAddress!, offsets.baseAddress!, b, texts[b].count, 4, &out)
                            } else {
                                InputStage.bagMean(values: values, scales: scales, dim: e, ids: ids.baseAddress!,
                                                   offsets: offsets.baseAddress!, text: b, length: texts[b].count, into: &out)
                            }
                        }
                    }
                    return out
                }
                let kernel = run(true), loop = run(false)
                XCTAssertEqual(kernel.map(\.bitPattern), loop.map(\.bitPattern), "e \(e) text \(b)")
                if !texts[b].isEmpty { XCTAssertNotEqual(loop, [Float](repeating: 0, count: e), "e \(e) text \(b)") }
            }
        }
    }
}
