/// The input side of a recurrent layer's pre-activations, W_ih x + b for every row.
///
/// The layers compute it for a whole batch in one product before their step loop; the
/// inference table of a recurrent network (InputProjectionTable) computes it once for
/// every vocabulary word with the same call, so that both give the same floats.
enum InputProjection {
    /// out [rows × width] = x [rows × inputDim] · weight [width × inputDim]ᵀ + bias [width].
    static func compute(x: UnsafePointer<Float>, rows: Int, inputDim: Int, weight: UnsafePointer<Float>,
                        bias: UnsafePointer<Float>, width: Int, into out: UnsafeMutablePointer<Float>) {
        for r in 0..<rows { (out + r * width).update(from: bias, count: width) }
        BLAS.gemm(transB: true, m: rows, n: width, k: inputDim, a: x, lda: inputDim,
                  b: weight, ldb: inputDim, beta: 1, c: out, ldc: width)
    }

    /// out [N × width]: row (t, b) of the packed batch gets the table row of its token,
    /// or, when `reversed`, of token L_b − 1 − t of text b (the reverse direction's input
    /// order, as ReversedRows gathers it). Token ids must be below the table's rows, as
    /// for an embedding lookup.
    static func gather(table: UnsafePointer<Float>, width: Int, batch: PackedBatch, reversed: Bool,
                       into out: UnsafeMutablePointer<Float>) {
        batch.tokens.withUnsafeBufferPointer { tokens in
            guard let ids = tokens.baseAddress else { return }
            if !reversed {
                for r in 0..<tokens.count {
                    (out + r * width).update(from: table + Int(ids[r]) * width, count: width)
                }
                return
            }
            let offsets = batch.stepOffsets, lengths = batch.lengths
            for b in 0..<lengths.count {
                let length = lengths[b]
                for t in 0..<length {
                    let id = Int(ids[offsets[length - 1 - t] + b])
                    (out + (offsets[t] + b) * width).update(from: table + id * width, count: width)
                }
            }
        }
    }
}
