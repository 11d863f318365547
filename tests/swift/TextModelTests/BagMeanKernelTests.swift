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
        // block; 24 a 16- then an 8-lane group; 72 and 100 run a 64-lane pass first. Text 1 has an
        // odd length (its last row paired with itself); text 0 spans two int32 chunks (1,100
        // tokens > 2 · TM_BAG_INT8_CHUNK) at the largest values and multipliers, so an overflow
        // or a missed flush shows.
        for e in [1, 4, 13, 24, 36, 72, 100, 103] {
            var rng = SeededGenerator(seed: UInt64(e) + 7)
            let vocabulary = 50
            var values = (0..<(vocabulary * e)).map { _ in Int8(Int(rng.next() % 255) - 127) }
            for j in 0..<e { values[j] = 127; values[e + j] = -127 }
            var multipliers = (0..<vocabulary).map { _ in Int16(rng.next() % 32768) }
            multipliers[0] = 32767
            multipliers[1] = 32767
            let texts: [[Int32]] = [[Int32](repeating: 0, count: 1100),
                                    (0..<37).map { _ in Int32(rng.next() % UInt64(vocabulary)) }, [3, 3, 49], [7], []]
            let batch = PackedBatch()
            batch.pack(texts.map { $0[...] })
            let unit: Float = 0.003 / 32767
            for b in texts.indices {
                func run(_ kernel: Bool) -> [Float] {
                    var out = [Float](repeating: .nan, count: e)
                    batch.tokens.withUnsafeBufferPointer { ids in
                        batch.stepOffsets.withUnsafeBufferPointer { offsets in
                            if kernel {
                                tm_bag_mean_int8_avx2(values, multipliers, unit, e, ids.baseAddress!, offsets.baseAddress!, b,
                                                      texts[b].count, 4, &out)
                            } else {
                                InputStage.bagMean(values: values, multipliers: multipliers, unit: unit, dim: e,
                                                   ids: ids.baseAddress!, offsets: offsets.baseAddress!, text: b,
                                                   length: texts[b].count, into: &out)
                            }
                        }
                    }
                    return out
                }
                let kernel = run(true), loop = run(false)
                XCTAssertEqual(kernel.map(\.bitPattern), loop.map(\.bitPattern), "e \(e) text \(b)")
                if !texts[b].isEmpty { XCTAssertNotEqual(loop, [Float](repeating: 0, count: e), "e \(e) text \(b)") }
                // The mean of 1,100 copies of row 0 (127 · 32767 · unit a lane) is row 0 itself,
                // to the rounding of the two chunk flushes and the final multiply.
                if b == 0 {
                    for j in 0..<e { XCTAssertEqual(loop[j], 127 * 0.003, accuracy: 1e-5, "e \(e) lane \(j)") }
                }
            }
        }
    }

    /// Multipliers of one unit: the largest nonzero row's scale is 32767 units, an
    /// all-zero row (scale 1) gets 0 and does not set the unit, and the rest round.
    func testRowMultipliers() throws {
        let values: [Int8] = [1, -2, 0, 0, 127, 5, 3, 0]   // 4 rows of 2; row 1 is all zero
        let scales: [Float] = [0.01, 1, 0.02, 0.0001]
        let m = try RowMultipliers(values: values, scales: scales, rows: 4, columns: 2)
        XCTAssertEqual((0..<4).map { m.multipliers.pointer[$0] }, [16384, 0, 32767, 164])
        XCTAssertEqual(m.unit, Float(0.02 as Double / 32767), accuracy: 1e-12)
    }
}
