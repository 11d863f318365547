// The numeric layers of a pre-norm Transformer encoder (LayerNorm, GELU, SelfAttention,
// PositionEmbedding): forward against plain Double references and known values, every
// backward against central finite differences of Σ out ⊙ r, a check that the gradient
// metric does catch wrong gradients, and attention's independence from the batch.
#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import TextModel

/// How far an analytic gradient is from a numeric one: the worst per-coordinate
/// gradientError (relative, with a floor for tiny gradients) and the whole-tensor
/// ‖a − n‖₂ / (‖a‖₂ + ‖n‖₂), which catches gradients that are wrong but all below the floor.
private struct GradientMismatch {
    var worst = 0.0
    var relative = 0.0
    /// Coordinates whose numeric derivative is clearly non-zero.
    var significant = 0

    init(analytic a: [Double], numeric n: [Double]) {
        var diff2 = 0.0, a2 = 0.0, n2 = 0.0
        for i in 0..<min(a.count, n.count) {
            let e = gradientError(a[i], n[i])
            worst = e.isNaN ? .infinity : max(worst, e)
            diff2 += (a[i] - n[i]) * (a[i] - n[i])
            a2 += a[i] * a[i]
            n2 += n[i] * n[i]
            if abs(n[i]) > 1e-3 { significant += 1 }
        }
        if a.count != n.count { worst = .infinity }
        let norm = a2.squareRoot() + n2.squareRoot()
        relative = norm > 0 ? diff2.squareRoot() / norm : 0
        if relative.isNaN { relative = .infinity }
    }

    func within(_ tolerance: Double) -> Bool { worst < tolerance && relative < tolerance }
}

/// Central differences of `loss` with respect to values[0..<count].
private func numericGradient(_ values: UnsafeMutablePointer<Float>, count: Int, eps: Float,
                             _ loss: () -> Double) -> [Double] {
    (0..<count).map { numericDerivative(values, $0, eps: eps, loss) }
}

/// Analytic minus what was there before backward (backward accumulates into it).
private func accumulated(_ buffer: FloatBuffer, since previous: FloatBuffer?, count: Int) -> [Double] {
    (0..<count).map { Double(buffer.pointer[$0]) - Double(previous?.pointer[$0] ?? 0) }
}

/// Relative tolerance of every gradient check, with central differences of step
/// `fdStep`. The layers run in Float, so the loss carries rounding noise of ~1e-7 that
/// a difference divides by 2·step: at step 1e-3 that noise alone reached 5e-3 on small
/// coordinates, at 1e-2 the worst coordinate of any check here is below 1e-3 (the
/// truncation error, O(step²), stays far smaller). 1e-2 is also what the other
/// finite-difference tests of this package use.
private let tolerance = 3e-3
private let fdStep: Float = 1e-2

final class TransformerLayerTests: XCTestCase {

    @discardableResult
    private func assertGradient(_ name: String, analytic: [Double], numeric: [Double],
                                file: StaticString = #filePath, line: UInt = #line) -> GradientMismatch {
        let m = GradientMismatch(analytic: analytic, numeric: numeric)
        XCTAssertTrue(analytic.allSatisfy { $0.isFinite }, "\(name): analytic gradient not finite", file: file, line: line)
        XCTAssertLessThan(m.worst, tolerance, "\(name): worst coordinate", file: file, line: line)
        XCTAssertLessThan(m.relative, tolerance, "\(name): whole-tensor relative error", file: file, line: line)
        XCTAssertGreaterThan(m.significant, analytic.count / 2, "\(name): too few non-zero gradients to test anything",
                             file: file, line: line)
        return m
    }

    // MARK: the gradient metric itself

    func testGradientMetricCatchesWrongGradients() {
        var rng = SeededGenerator(seed: 900)
        let numeric = (0..<40).map { _ in Double(rng.uniform(-1, 1)) }
        XCTAssertTrue(GradientMismatch(analytic: numeric, numeric: numeric).within(1e-12))
        // One coordinate 5% off.
        var oneOff = numeric
        oneOff[17] *= 1.05
        XCTAssertFalse(GradientMismatch(analytic: oneOff, numeric: numeric).within(tolerance))
        // A sign flip anywhere.
        var flipped = numeric
        flipped[3] = -flipped[3]
        XCTAssertFalse(GradientMismatch(analytic: flipped, numeric: numeric).within(tolerance))
        // Gradients all below the per-coordinate floor and half what they should be: each
        // coordinate passes, only the whole-tensor norm sees it.
        let tiny = numeric.map { $0 * 1e-5 }
        let halved = GradientMismatch(analytic: tiny.map { $0 * 0.5 }, numeric: tiny)
        XCTAssertLessThan(halved.worst, tolerance)
        XCTAssertEqual(halved.relative, 0.5 / 1.5, accuracy: 1e-9)
        XCTAssertFalse(halved.within(tolerance))
        // Missing gradients (all zero) against real ones: relative error 1.
        XCTAssertEqual(GradientMismatch(analytic: numeric.map { _ in 0 }, numeric: numeric).relative, 1, accuracy: 1e-12)
        // NaN never passes.
        var nan = numeric
        nan[0] = .nan
        XCTAssertFalse(GradientMismatch(analytic: nan, numeric: numeric).within(tolerance))
    }

    // MARK: LayerNorm

    func testLayerNormNormalisesEachRow() {
        var rng = SeededGenerator(seed: 901)
        let rows = 6, dim = 32
        let x = FloatBuffer.zeros(count: rows * dim)
        for r in 0..<rows {
            let offset = Float(r) * 7 - 20, spread = 1 + Float(r)
            for j in 0..<dim { x.pointer[r * dim + j] = offset + spread * rng.uniform(-1, 1) }
        }
        for j in 0..<dim { x.pointer[5 * dim + j] = 3.25 }   // a constant row: var 0
        let gamma = FloatBuffer.zeros(count: dim), beta = FloatBuffer.zeros(count: dim)
        gamma.pointer.update(repeating: 1, count: dim)
        let out = randomBuffer(rows * dim, &rng, 50, 60)
        let mean = FloatBuffer.zeros(count: rows), rstd = FloatBuffer.zeros(count: rows)
        LayerNorm.forward(x: x.pointer, rows: rows, dim: dim, gamma: gamma.pointer, beta: beta.pointer,
                          out: out.pointer, mean: mean.pointer, rstd: rstd.pointer)
        XCTAssertEqual(LayerNorm.savedCount(rows: rows), 2 * rows)
        for r in 0..<rows {
            let row = (0..<dim).map { Double(x.pointer[r * dim + $0]) }
            let m = row.reduce(0, +) / Double(dim)
            let v = row.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(dim)   // biased
            XCTAssertEqual(Double(mean.pointer[r]), m, accuracy: 1e-5 * max(1, abs(m)))
            XCTAssertEqual(Double(rstd.pointer[r]), 1 / (v + 1e-5).squareRoot(), accuracy: 1e-4 / (v + 1e-5).squareRoot())
            let y = (0..<dim).map { Double(out.pointer[r * dim + $0]) }
            XCTAssertTrue(y.allSatisfy { $0.isFinite })
            let ym = y.reduce(0, +) / Double(dim)
            let yv = y.map { ($0 - ym) * ($0 - ym) }.reduce(0, +) / Double(dim)
            XCTAssertEqual(ym, 0, accuracy: 1e-5, "row \(r)")
            if r < 5 {
                XCTAssertEqual(yv, v / (v + 1e-5), accuracy: 1e-4, "row \(r)")
                XCTAssertEqual(yv, 1, accuracy: 3e-4, "row \(r)")
            } else {
                XCTAssertEqual(yv, 0, "a constant row normalises to β")
            }
        }
    }

    func testLayerNormForwardAgainstReference() {
        // dim 9: the scalar tail alone; 40: two 16-lane blocks and a tail.
        for dim in [9, 40] { layerNormForwardAgainstReference(dim: dim) }
    }

    private func layerNormForwardAgainstReference(dim: Int) {
        var rng = SeededGenerator(seed: 902)
        let rows = 3
        let x = randomBuffer(rows * dim, &rng, -2, 3)
        let gamma = randomBuffer(dim, &rng, 0.5, 1.5), beta = randomBuffer(dim, &rng)
        let out = FloatBuffer.zeros(count: rows * dim), mean = FloatBuffer.zeros(count: rows), rstd = FloatBuffer.zeros(count: rows)
        LayerNorm.forward(x: x.pointer, rows: rows, dim: dim, gamma: gamma.pointer, beta: beta.pointer,
                          out: out.pointer, mean: mean.pointer, rstd: rstd.pointer)
        for r in 0..<rows {
            let row = (0..<dim).map { Double(x.pointer[r * dim + $0]) }
            let m = row.reduce(0, +) / Double(dim)
            let v = row.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(dim)
            for j in 0..<dim {
                let expected = (row[j] - m) / (v + 1e-5).squareRoot() * Double(gamma.pointer[j]) + Double(beta.pointer[j])
                XCTAssertEqual(Double(out.pointer[r * dim + j]), expected, accuracy: 1e-5, "dim \(dim)")
            }
        }
    }

    /// Sizes and buffers of one LayerNorm gradient check; loss = Σ out ⊙ r.
    private struct LayerNormCase {
        let rows = 4, dim: Int
        let x, gamma, beta, r, out, mean, rstd: FloatBuffer

        init(seed: UInt64, dim: Int = 7) {
            self.dim = dim
            var rng = SeededGenerator(seed: seed)
            x = randomBuffer(rows * dim, &rng, -2, 2)
            gamma = randomBuffer(dim, &rng, 0.5, 1.5)
            beta = randomBuffer(dim, &rng)
            r = randomBuffer(rows * dim, &rng)
            out = FloatBuffer.zeros(count: rows * dim)
            mean = FloatBuffer.zeros(count: rows)
            rstd = FloatBuffer.zeros(count: rows)
        }

        func loss() -> Double {
            LayerNorm.forward(x: x.pointer, rows: rows, dim: dim, gamma: gamma.pointer, beta: beta.pointer,
                              out: out.pointer, mean: mean.pointer, rstd: rstd.pointer)
            return weightedSum(out.pointer, r.pointer, rows * dim)
        }
    }

    func testLayerNormBackward() {
        // dim 7: the scalar tail alone; 37: two 16-lane blocks and a tail.
        for dim in [7, 37] { layerNormBackward(dim: dim) }
    }

    private func layerNormBackward(dim: Int) {
        let c = LayerNormCase(seed: 903, dim: dim)
        let n = c.rows * c.dim
        var rng = SeededGenerator(seed: 904)
        _ = c.loss()
        // Everything accumulates: start from non-zero "earlier" gradients.
        let previousX = randomBuffer(n, &rng), previousG = randomBuffer(c.dim, &rng), previousB = randomBuffer(c.dim, &rng)
        let dX = copyBuffer(previousX, n), dGamma = copyBuffer(previousG, c.dim), dBeta = copyBuffer(previousB, c.dim)
        LayerNorm.backward(dOut: c.r.pointer, x: c.x.pointer, rows: c.rows, dim: c.dim, gamma: c.gamma.pointer,
                           mean: c.mean.pointer, rstd: c.rstd.pointer, dX: dX.pointer,
                           dGamma: dGamma.pointer, dBeta: dBeta.pointer)
        let eps = fdStep
        assertGradient("layernorm dX", analytic: accumulated(dX, since: previousX, count: n),
                       numeric: numericGradient(c.x.pointer, count: n, eps: eps, c.loss))
        assertGradient("layernorm dGamma", analytic: accumulated(dGamma, since: previousG, count: c.dim),
                       numeric: numericGradient(c.gamma.pointer, count: c.dim, eps: eps, c.loss))
        assertGradient("layernorm dBeta", analytic: accumulated(dBeta, since: previousB, count: c.dim),
                       numeric: numericGradient(c.beta.pointer, count: c.dim, eps: eps, c.loss))

        // Without parameter gradients: the same dX.
        _ = c.loss()
        let dX2 = FloatBuffer.zeros(count: n)
        LayerNorm.backward(dOut: c.r.pointer, x: c.x.pointer, rows: c.rows, dim: c.dim, gamma: c.gamma.pointer,
                           mean: c.mean.pointer, rstd: c.rstd.pointer, dX: dX2.pointer, dGamma: nil, dBeta: nil)
        for i in 0..<n { XCTAssertEqual(dX2.pointer[i], dX.pointer[i] - previousX.pointer[i], accuracy: 1e-6) }
    }

    /// A LayerNorm gradient that forgets the mean and variance depend on x (dX = rstd·γ·dOut)
    /// must fail the same check the real one passes.
    func testLayerNormCheckRejectsABrokenGradient() {
        let c = LayerNormCase(seed: 905)
        let n = c.rows * c.dim
        _ = c.loss()
        var broken = [Double](repeating: 0, count: n)
        for row in 0..<c.rows {
            for j in 0..<c.dim {
                broken[row * c.dim + j] = Double(c.rstd.pointer[row] * c.gamma.pointer[j] * c.r.pointer[row * c.dim + j])
            }
        }
        let numeric = numericGradient(c.x.pointer, count: n, eps: fdStep, c.loss)
        let m = GradientMismatch(analytic: broken, numeric: numeric)
        XCTAssertFalse(m.within(tolerance))
        XCTAssertGreaterThan(m.relative, 10 * tolerance)
    }

    // MARK: GELU

    func testGELUKnownValues() {
        let xs: [Float] = [1, -1, 0, 2, -3, 0.5, 10, -10]
        let expected: [Float] = [0.841_344_7, -0.158_655_3, 0, 1.954_499_7, -0.004_049_6, 0.345_731_4, 10, 0]
        var out = [Float](repeating: .nan, count: xs.count)
        xs.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { GELU.forward(x: x.baseAddress!, count: xs.count, out: $0.baseAddress!) }
        }
        for i in 0..<xs.count { XCTAssertEqual(out[i], expected[i], accuracy: 2e-7, "GELU(\(xs[i]))") }
        // Derivatives: GELU'(0) = 1/2, GELU'(1) = Φ(1) + φ(1).
        let at: [Float] = [0, 1], ones: [Float] = [1, 1]
        var dX = [Float](repeating: .nan, count: 2)
        at.withUnsafeBufferPointer { x in
            ones.withUnsafeBufferPointer { g in
                dX.withUnsafeMutableBufferPointer { GELU.backward(dOut: g.baseAddress!, x: x.baseAddress!, count: 2, dX: $0.baseAddress!) }
            }
        }
        XCTAssertEqual(dX[0], 0.5, accuracy: 1e-7)
        XCTAssertEqual(dX[1], 0.841_344_7 + 0.241_970_7, accuracy: 2e-7)
        XCTAssertEqual(GELU.savedCount(count: 17), 17)
    }

    func testGELUBackward() {
        var rng = SeededGenerator(seed: 906)
        let n = 30
        let x = randomBuffer(n, &rng, -4, 4)
        x.pointer[0] = 0
        let r = randomBuffer(n, &rng)
        let out = FloatBuffer.zeros(count: n)
        func loss() -> Double {
            GELU.forward(x: x.pointer, count: n, out: out.pointer)
            return weightedSum(out.pointer, r.pointer, n)
        }
        let dX = randomBuffer(n, &rng, 50, 60)   // written, not accumulated
        GELU.backward(dOut: r.pointer, x: x.pointer, count: n, dX: dX.pointer)
        let numeric = numericGradient(x.pointer, count: n, eps: fdStep, loss)
        assertGradient("gelu dX", analytic: accumulated(dX, since: nil, count: n), numeric: numeric)
        // The derivative without its x·φ(x) term (Φ alone, a common slip) is rejected.
        let broken = (0..<n).map { i -> Double in
            let v = Double(x.pointer[i])
            return Double(r.pointer[i]) * 0.5 * (1 + erf(v / 2.0.squareRoot()))
        }
        XCTAssertFalse(GradientMismatch(analytic: broken, numeric: numeric).within(tolerance))
    }

    // MARK: SelfAttention

    private func packed(_ lengths: [Int]) -> PackedBatch {
        let batch = PackedBatch()
        batch.pack(lengths.map { ArraySlice([Int32](repeating: 0, count: $0)) })
        return batch
    }

    func testAttentionSizes() {
        let batch = packed([5, 3, 3, 1, 0])
        XCTAssertEqual(SelfAttention.probabilityCount(batch: batch, heads: 2), 2 * (25 + 9 + 9 + 1))
        XCTAssertEqual(SelfAttention.probabilityBound(rows: batch.totalRows, longest: 5, heads: 2), 2 * 12 * 5)
        XCTAssertLessThanOrEqual(SelfAttention.probabilityCount(batch: batch, heads: 2),
                                 SelfAttention.probabilityBound(rows: batch.totalRows, longest: 5, heads: 2))
        XCTAssertEqual(SelfAttention.scratchCount(longest: 5, dim: 6), 5 * (7 * 6 + 2 * 5))
        XCTAssertEqual(SelfAttention.probabilityCount(batch: packed([]), heads: 4), 0)
    }

    /// One head, two tokens, by hand (D = d = 2, scale 1/√2):
    /// q0 = (√2·ln3, 0), q1 = 0, k0 = 0, k1 = (1, 0), v0 = (2, −1), v1 = (6, 3).
    /// Token 0's scaled scores are (0, ln3), so p = (1/4, 3/4) and out0 = (5, 2);
    /// token 1's are (0, 0), so p = (1/2, 1/2) and out1 = (4, 1).
    func testAttentionOneHeadTwoTokensByHand() {
        let batch = packed([2])
        let qkv: [Float] = [
            Float(2.0.squareRoot() * log(3.0)), 0, /* k0 */ 0, 0, /* v0 */ 2, -1,
            0, 0, /* k1 */ 1, 0, /* v1 */ 6, 3,
        ]
        var out = [Float](repeating: .nan, count: 4)
        var probabilities = [Float](repeating: .nan, count: SelfAttention.probabilityCount(batch: batch, heads: 1))
        var scratch = [Float](repeating: .nan, count: SelfAttention.scratchCount(longest: 2, dim: 2))
        qkv.withUnsafeBufferPointer { q in
            out.withUnsafeMutableBufferPointer { o in
                probabilities.withUnsafeMutableBufferPointer { p in
                    scratch.withUnsafeMutableBufferPointer { s in
                        SelfAttention.forward(qkv: q.baseAddress!, batch: batch, dim: 2, heads: 1, out: o.baseAddress!,
                                              probabilities: p.baseAddress!, scratch: s.baseAddress!)
                    }
                }
            }
        }
        let expectedP: [Float] = [0.25, 0.75, 0.5, 0.5], expectedOut: [Float] = [5, 2, 4, 1]
        for i in 0..<4 {
            XCTAssertEqual(probabilities[i], expectedP[i], accuracy: 1e-6, "p[\(i)]")
            XCTAssertEqual(out[i], expectedOut[i], accuracy: 1e-5, "out[\(i)]")
        }
    }

    /// Buffers for attention over `lengths`; loss = Σ out ⊙ r.
    private final class AttentionCase {
        let batch: PackedBatch
        let dim: Int, heads: Int, rows: Int, probabilityCount: Int
        let qkv, r, out, probabilities, scratch: FloatBuffer
        static let canary: Float = -12345

        init(lengths: [Int], dim: Int, heads: Int, seed: UInt64, spread: Float = 1.5) {
            var rng = SeededGenerator(seed: seed)
            batch = PackedBatch()
            batch.pack(lengths.map { ArraySlice([Int32](repeating: 0, count: $0)) })
            self.dim = dim
            self.heads = heads
            rows = batch.totalRows
            probabilityCount = SelfAttention.probabilityCount(batch: batch, heads: heads)
            qkv = randomBuffer(rows * 3 * dim, &rng, -spread, spread)
            r = randomBuffer(rows * dim, &rng)
            // Garbage everywhere, and a canary past each output's end: nothing may be read
            // before it is written, or written past its size.
            out = randomBuffer(rows * dim + 1, &rng, 50, 60)
            out.pointer[rows * dim] = Self.canary
            probabilities = randomBuffer(probabilityCount + 1, &rng, 50, 60)
            probabilities.pointer[probabilityCount] = Self.canary
            let scratchCount = SelfAttention.scratchCount(longest: lengths.first ?? 0, dim: dim)
            scratch = randomBuffer(scratchCount + 1, &rng, 50, 60)
            scratch.pointer[scratchCount] = Self.canary
        }

        func forward() {
            SelfAttention.forward(qkv: qkv.pointer, batch: batch, dim: dim, heads: heads, out: out.pointer,
                                  probabilities: probabilities.pointer, scratch: scratch.pointer)
        }

        func loss() -> Double {
            forward()
            return weightedSum(out.pointer, r.pointer, rows * dim)
        }

        /// dQKV for dOut = r after a fresh forward.
        func backward() -> FloatBuffer {
            forward()
            var rng = SeededGenerator(seed: 77)
            let dQKV = randomBuffer(rows * 3 * dim + 1, &rng, 50, 60)   // written, not accumulated
            dQKV.pointer[rows * 3 * dim] = Self.canary
            SelfAttention.backward(dOut: r.pointer, qkv: qkv.pointer, probabilities: probabilities.pointer, batch: batch,
                                   dim: dim, heads: heads, dQKV: dQKV.pointer, scratch: scratch.pointer)
            return dQKV
        }

        var canariesIntact: Bool {
            out.pointer[rows * dim] == Self.canary && probabilities.pointer[probabilityCount] == Self.canary
                && scratch.pointer[SelfAttention.scratchCount(longest: batch.lengths.first ?? 0, dim: dim)] == Self.canary
        }
    }

    /// Forward against a per-text, per-head Double reference, then dQKV against finite
    /// differences.
    private func checkAttention(lengths: [Int], dim: Int, heads: Int, seed: UInt64,
                                file: StaticString = #filePath, line: UInt = #line) {
        let c = AttentionCase(lengths: lengths, dim: dim, heads: heads, seed: seed)
        c.forward()
        XCTAssertTrue(c.canariesIntact, "forward wrote past a buffer", file: file, line: line)
        let d = dim / heads, width = 3 * dim
        let scale = 1 / Double(d).squareRoot()
        var block = 0
        for (b, length) in lengths.enumerated() {
            func row(_ t: Int) -> Int { c.batch.stepOffsets[t] + b }
            for j in 0..<heads {
                for i in 0..<length {
                    var scores = (0..<length).map { t -> Double in
                        var s = 0.0
                        for e in 0..<d {
                            s += Double(c.qkv.pointer[row(i) * width + j * d + e]) * Double(c.qkv.pointer[row(t) * width + dim + j * d + e])
                        }
                        return s * scale
                    }
                    let top = scores.max() ?? 0
                    scores = scores.map { exp($0 - top) }
                    let total = scores.reduce(0, +)
                    let p = scores.map { $0 / total }
                    for t in 0..<length {
                        XCTAssertEqual(Double(c.probabilities.pointer[block + (j * length + i) * length + t]), p[t], accuracy: 1e-6,
                                       "text \(b) head \(j) p[\(i), \(t)]", file: file, line: line)
                    }
                    for e in 0..<d {
                        var o = 0.0
                        for t in 0..<length { o += p[t] * Double(c.qkv.pointer[row(t) * width + 2 * dim + j * d + e]) }
                        XCTAssertEqual(Double(c.out.pointer[row(i) * dim + j * d + e]), o, accuracy: 1e-5,
                                       "text \(b) head \(j) out[\(i), \(e)]", file: file, line: line)
                    }
                }
            }
            block += heads * length * length
        }
        XCTAssertEqual(block, c.probabilityCount, file: file, line: line)

        let dQKV = c.backward()
        XCTAssertTrue(c.canariesIntact && dQKV.pointer[c.rows * width] == AttentionCase.canary,
                      "backward wrote past a buffer", file: file, line: line)
        let n = c.rows * width
        assertGradient("attention dQKV \(lengths) h=\(heads)", analytic: accumulated(dQKV, since: nil, count: n),
                       numeric: numericGradient(c.qkv.pointer, count: n, eps: fdStep, c.loss), file: file, line: line)
    }

    func testAttentionTwoHeadsMixedLengths() {
        checkAttention(lengths: [5, 3, 3, 1, 0], dim: 6, heads: 2, seed: 910)
    }

    func testAttentionOneHead() {
        checkAttention(lengths: [4, 2], dim: 4, heads: 1, seed: 911)
    }

    func testAttentionThreeHeadsOfWidthTwo() {
        checkAttention(lengths: [6, 5, 1], dim: 6, heads: 3, seed: 912)
    }

    /// Dropping the key gradient (a forgotten path) fails the check the real one passes.
    func testAttentionCheckRejectsABrokenGradient() {
        let c = AttentionCase(lengths: [4, 3], dim: 4, heads: 2, seed: 913)
        let dQKV = c.backward()
        let width = 3 * c.dim, n = c.rows * width
        var broken = accumulated(dQKV, since: nil, count: n)
        for row in 0..<c.rows { for j in c.dim..<(2 * c.dim) { broken[row * width + j] = 0 } }
        let numeric = numericGradient(c.qkv.pointer, count: n, eps: fdStep, c.loss)
        XCTAssertTrue(GradientMismatch(analytic: accumulated(dQKV, since: nil, count: n), numeric: numeric).within(tolerance))
        XCTAssertFalse(GradientMismatch(analytic: broken, numeric: numeric).within(tolerance))
    }

    /// A text's outputs, probabilities and input gradients are bit-identical alone and
    /// packed with longer, shorter and equally long texts (the packed layout is the mask).
    func testAttentionTextIsIndependentOfItsBatch() {
        let dim = 8, heads = 2, length = 4
        let alone = AttentionCase(lengths: [length], dim: dim, heads: heads, seed: 920)
        alone.forward()
        let aloneGradient = alone.backward()
        let width = 3 * dim
        for (lengths, position) in [([length, 3, 1], 0), ([9, 6, length], 2), ([7, length, length, 2, 0], 1),
                                    ([7, length, length, 2], 2)] {
            let c = AttentionCase(lengths: lengths, dim: dim, heads: heads, seed: 921 + UInt64(lengths.count))
            // Text `position` gets the lone text's inputs and output gradients.
            for t in 0..<length {
                let row = c.batch.stepOffsets[t] + position
                (c.qkv.pointer + row * width).update(from: alone.qkv.pointer + t * width, count: width)
                (c.r.pointer + row * dim).update(from: alone.r.pointer + t * dim, count: dim)
            }
            c.forward()
            let gradient = c.backward()
            let block = heads * lengths[..<position].reduce(0) { $0 + $1 * $1 }
            let label = "text \(position) of \(lengths)"
            for i in 0..<(heads * length * length) {
                XCTAssertEqual(c.probabilities.pointer[block + i].bitPattern, alone.probabilities.pointer[i].bitPattern,
                               "\(label): probability \(i)")
            }
            for t in 0..<length {
                let row = c.batch.stepOffsets[t] + position
                XCTAssertEqual(array(c.out.pointer + row * dim, dim).map(\.bitPattern),
                               array(alone.out.pointer + t * dim, dim).map(\.bitPattern), "\(label): out at t=\(t)")
                XCTAssertEqual(array(gradient.pointer + row * width, width).map(\.bitPattern),
                               array(aloneGradient.pointer + t * width, width).map(\.bitPattern), "\(label): dQKV at t=\(t)")
            }
        }
    }

    // MARK: PositionEmbedding

    func testPositionEmbeddingForwardAndBackward() {
        var rng = SeededGenerator(seed: 930)
        let lengths = [4, 2, 2, 1], dim = 3, maxLength = 6
        let batch = packed(lengths)
        let n = batch.totalRows * dim, tableCount = PositionEmbedding.tableCount(maxLength: maxLength, dim: dim)
        XCTAssertEqual(tableCount, 18)
        let x = randomBuffer(n, &rng), table = randomBuffer(tableCount, &rng), r = randomBuffer(n, &rng)
        let work = FloatBuffer.zeros(count: n)
        func loss() -> Double {
            work.pointer.update(from: x.pointer, count: n)
            PositionEmbedding.forward(x: work.pointer, batch: batch, dim: dim, table: table.pointer, maxLength: maxLength)
            return weightedSum(work.pointer, r.pointer, n)
        }
        _ = loss()
        for (b, length) in lengths.enumerated() {
            for t in 0..<length {
                let row = batch.stepOffsets[t] + b
                for j in 0..<dim {
                    XCTAssertEqual(work.pointer[row * dim + j], x.pointer[row * dim + j] + table.pointer[t * dim + j])
                }
            }
        }
        let previous = randomBuffer(tableCount, &rng)
        let dTable = copyBuffer(previous, tableCount)
        PositionEmbedding.backward(dX: r.pointer, batch: batch, dim: dim, dTable: dTable.pointer, maxLength: maxLength)
        assertGradient("position table", analytic: Array(accumulated(dTable, since: previous, count: tableCount)[..<(4 * dim)]),
                       numeric: Array(numericGradient(table.pointer, count: tableCount, eps: fdStep, loss)[..<(4 * dim)]))
        for i in (4 * dim)..<tableCount {   // positions no text reaches: untouched
            XCTAssertEqual(dTable.pointer[i], previous.pointer[i])
        }
        // The input's gradient is dX passed through: d loss / dx = r.
        assertGradient("position x", analytic: (0..<n).map { Double(r.pointer[$0]) },
                       numeric: numericGradient(x.pointer, count: n, eps: fdStep, loss))
        // nil: a frozen table, nothing to do.
        PositionEmbedding.backward(dX: r.pointer, batch: batch, dim: dim, dTable: nil, maxLength: maxLength)
    }

    func testPositionEmbeddingStopsAtTheTableEnd() {
        var rng = SeededGenerator(seed: 931)
        let dim = 2, maxLength = 3
        let batch = packed([5, 1])
        let n = batch.totalRows * dim
        let x = randomBuffer(n, &rng), table = randomBuffer(maxLength * dim + 2, &rng)
        let work = copyBuffer(x, n)
        PositionEmbedding.forward(x: work.pointer, batch: batch, dim: dim, table: table.pointer, maxLength: maxLength)
        for t in 3..<5 {   // past the table: left as they were
            let row = batch.stepOffsets[t]
            XCTAssertEqual(array(work.pointer + row * dim, dim), array(x.pointer + row * dim, dim))
        }
        let dTable = FloatBuffer.zeros(count: maxLength * dim + 2)
        dTable.pointer[maxLength * dim] = 7
        dTable.pointer[maxLength * dim + 1] = 7
        PositionEmbedding.backward(dX: x.pointer, batch: batch, dim: dim, dTable: dTable.pointer, maxLength: maxLength)
        XCTAssertEqual(array(dTable.pointer + maxLength * dim, 2), [7, 7])
        XCTAssertEqual(dTable.pointer[0], x.pointer[0] + x.pointer[2])   // t = 0: both texts
    }
}
