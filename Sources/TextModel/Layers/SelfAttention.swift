/// Multi-head scaled dot-product self-attention over a PackedBatch, each text attending
/// only to its own tokens.
///
/// Shapes (N packed rows, B texts, D width, h heads, d = D/h, L_b text b's length):
///   qkv [N × 3D]   row (t, b) at `batch.stepOffsets[t] + b` is [q | k | v], each D
///                  wide; head j uses columns j·d ..< (j+1)·d of each part
///   out [N × D]    the heads' outputs side by side, before the output projection
///   probabilities  softmax(q·kᵀ / √d) of every text and head: text b's block is
///                  [h × L_b × L_b] (head, query token, key token), blocks in batch
///                  order; `probabilityCount(batch:heads:)` floats, at most
///                  `probabilityBound(rows:longest:heads:)`
///   scratch        `scratchCount(longest:dim:)` floats; contents on entry do not matter
///
/// The packed layout has no padding, so this is the padding mask: a text's scores never
/// see another text's keys, and every product is computed on that text's rows alone
/// (gathered into scratch at the same offsets whatever the batch), so a text gets
/// bit-identical results alone or in any batch. Work is per text (h gemms of L_b² · d
/// each way), never over the whole batch. D must be a multiple of h (checked where the
/// configuration is validated); otherwise nothing is written. Empty texts have no rows
/// and no probabilities.
enum SelfAttention {
    /// Floats of saved probabilities for this batch: h · Σ L_b².
    static func probabilityCount(batch: PackedBatch, heads: Int) -> Int {
        var total = 0
        for length in batch.lengths { total += length * length }
        return heads * total
    }

    /// An upper bound from shapes alone, for planning before the batch is known:
    /// h · N · L_max, since Σ L_b² ≤ L_max · Σ L_b.
    /// Saturates at Int.max instead of overflowing (the activation plan refuses that).
    static func probabilityBound(rows: Int, longest: Int, heads: Int) -> Int {
        ActivationPlan.product(heads, rows, longest)
    }

    /// Scratch floats for forward and backward with texts of up to `longest` tokens:
    /// backward gathers q|k|v [L × 3D], dOut [L × D] and dq|dk|dv [L × 3D] and needs one
    /// head's score gradient [L × L]; forward uses the first 4·L·D of it.
    static func scratchCount(longest: Int, dim: Int) -> Int {
        ActivationPlan.product(longest, 7 * dim + 2 * longest)
    }

    /// Inverted dropout of the attention probabilities (training only): each of a text's
    /// probabilities is zeroed with probability `rate` and the rest scaled by 1/(1−rate)
    /// before they weight the values, as PyTorch's MultiheadAttention does. `mask` has
    /// the probabilities' layout and size; draws come from `rng` in that order.
    struct ProbabilityDropout {
        let rate: Float
        let mask: UnsafeMutablePointer<Float>
    }

    static func forward(qkv: UnsafePointer<Float>, batch: PackedBatch, dim: Int, heads: Int,
                        out: UnsafeMutablePointer<Float>, probabilities: UnsafeMutablePointer<Float>,
                        scratch: UnsafeMutablePointer<Float>) {
        var unused = SeededGenerator(seed: 0)
        forward(qkv: qkv, batch: batch, dim: dim, heads: heads, out: out, probabilities: probabilities,
                scratch: scratch, dropout: nil, rng: &unused)
    }

    /// `forward`, with the probabilities dropped out (`dropout`, while training) before
    /// they weight the values; `probabilities` keeps them undropped for the backward pass.
    static func forward(qkv: UnsafePointer<Float>, batch: PackedBatch, dim: Int, heads: Int,
                        out: UnsafeMutablePointer<Float>, probabilities: UnsafeMutablePointer<Float>,
                        scratch: UnsafeMutablePointer<Float>, dropout: ProbabilityDropout?,
                        rng: inout SeededGenerator) {
        guard heads > 0, dim % heads == 0 else { return }
        let d = dim / heads, width = 3 * dim
        let scale = 1 / Float(d).squareRoot()
        var block = probabilities
        for b in 0..<batch.size {
            let length = batch.lengths[b]
            guard length > 0 else { continue }
            // Offsets depend on L alone, so the products see the same layout in any batch.
            let gathered = scratch
            let merged = scratch + length * width
            let dropped = merged + length * dim
            gather(qkv, width: width, text: b, length: length, batch: batch, into: gathered)
            for j in 0..<heads {
                let p = block + j * length * length
                BLAS.gemm(transB: true, m: length, n: length, k: d, alpha: scale,
                          a: gathered + j * d, lda: width, b: gathered + dim + j * d, ldb: width,
                          beta: 0, c: p, ldc: length)
                for i in 0..<length { softmaxRow(p + i * length, length) }
                var weights = UnsafePointer(p)
                if let dropout = dropout {
                    let mask = dropout.mask + (p - probabilities), keep = 1 / (1 - dropout.rate)
                    for i in 0..<(length * length) {
                        mask[i] = rng.uniform(0, 1) >= dropout.rate ? keep : 0
                        dropped[i] = p[i] * mask[i]
                    }
                    weights = UnsafePointer(dropped)
                }
                BLAS.gemm(m: length, n: d, k: length, a: weights, lda: length,
                          b: gathered + 2 * dim + j * d, ldb: width,
                          beta: 0, c: merged + j * d, ldc: dim)
            }
            scatter(merged, width: dim, text: b, length: length, batch: batch, into: out)
            block += heads * length * length
        }
    }

    /// Given dOut [N × D], WRITES dQKV [N × 3D] (every row: each row belongs to one text).
    /// Per head, with P the saved probabilities and S the scaled scores:
    /// dV = Pᵀ·dO, dP = dO·Vᵀ, dS = P ⊙ (dP − rowsum(P ⊙ dP)), dQ = dS·K/√d, dK = dSᵀ·Q/√d.
    /// With `dropoutMask` (the mask `forward` drew): dV = (P ⊙ M)ᵀ·dO and dP = (dO·Vᵀ) ⊙ M.
    static func backward(dOut: UnsafePointer<Float>, qkv: UnsafePointer<Float>,
                         probabilities: UnsafePointer<Float>, batch: PackedBatch, dim: Int, heads: Int,
                         dQKV: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                         dropoutMask: UnsafePointer<Float>? = nil) {
        guard heads > 0, dim % heads == 0 else { return }
        let d = dim / heads, width = 3 * dim
        let scale = 1 / Float(d).squareRoot()
        var block = probabilities
        for b in 0..<batch.size {
            let length = batch.lengths[b]
            guard length > 0 else { continue }
            let gathered = scratch
            let dO = gathered + length * width
            let dGathered = dO + length * dim
            let dS = dGathered + length * width
            let dropped = dS + length * length
            gather(qkv, width: width, text: b, length: length, batch: batch, into: gathered)
            gather(dOut, width: dim, text: b, length: length, batch: batch, into: dO)
            for j in 0..<heads {
                let p = block + j * length * length
                let q = gathered + j * d, k = gathered + dim + j * d, v = gathered + 2 * dim + j * d
                let dOj = dO + j * d
                var weights = p
                let mask = dropoutMask.map { $0 + (p - probabilities) }
                if let mask = mask {
                    for i in 0..<(length * length) { dropped[i] = p[i] * mask[i] }
                    weights = UnsafePointer(dropped)
                }
                BLAS.gemm(transA: true, m: length, n: d, k: length, a: weights, lda: length, b: dOj, ldb: dim,
                          beta: 0, c: dGathered + 2 * dim + j * d, ldc: width)
                BLAS.gemm(transB: true, m: length, n: length, k: d, a: dOj, lda: dim, b: v, ldb: width,
                          beta: 0, c: dS, ldc: length)
                if let mask = mask {
                    for i in 0..<(length * length) { dS[i] *= mask[i] }
                }
                for i in 0..<length { softmaxBackwardRow(p + i * length, dS + i * length, length) }
                BLAS.gemm(m: length, n: d, k: length, alpha: scale, a: dS, lda: length, b: k, ldb: width,
                          beta: 0, c: dGathered + j * d, ldc: width)
                BLAS.gemm(transA: true, m: length, n: d, k: length, alpha: scale, a: dS, lda: length, b: q, ldb: width,
                          beta: 0, c: dGathered + dim + j * d, ldc: width)
            }
            scatter(dGathered, width: width, text: b, length: length, batch: batch, into: dQKV)
            block += heads * length * length
        }
    }

    /// Copies text b's packed rows (t = 0..<L) into contiguous [L × width].
    @inline(__always)
    private static func gather(_ source: UnsafePointer<Float>, width: Int, text b: Int, length: Int,
                               batch: PackedBatch, into dst: UnsafeMutablePointer<Float>) {
        for t in 0..<length {
            (dst + t * width).update(from: source + (batch.stepOffsets[t] + b) * width, count: width)
        }
    }

    /// The inverse of gather: contiguous [L × width] back to text b's packed rows.
    @inline(__always)
    private static func scatter(_ source: UnsafePointer<Float>, width: Int, text b: Int, length: Int,
                                batch: PackedBatch, into dst: UnsafeMutablePointer<Float>) {
        for t in 0..<length {
            (dst + (batch.stepOffsets[t] + b) * width).update(from: source + t * width, count: width)
        }
    }

    /// Softmax of one score row in place, max subtracted so exp never overflows.
    /// fastExp (not libm's expf) so the loop vectorises: this is L² per head. The
    /// exponentials and their in-order sum are separate loops: with the sum in the same
    /// loop the exponentials stayed scalar too.
    @inline(__always)
    private static func softmaxRow(_ row: UnsafeMutablePointer<Float>, _ count: Int) {
        var m = row[0]
        for i in 1..<count where row[i] > m { m = row[i] }
        for i in 0..<count { row[i] = fastExp(row[i] - m) }
        var sum: Float = 0
        for i in 0..<count { sum += row[i] }
        let inverse = 1 / sum
        for i in 0..<count { row[i] *= inverse }
    }

    /// dS = P ⊙ (dP − Σ P ⊙ dP) for one row, in place over dP.
    @inline(__always)
    private static func softmaxBackwardRow(_ p: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>, _ count: Int) {
        var dot: Float = 0
        for i in 0..<count { dot += p[i] * g[i] }
        for i in 0..<count { g[i] = p[i] * (g[i] - dot) }
    }
}
