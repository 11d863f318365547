/// The input side of a recurrent layer's pre-activations, W_ih x + b for every row.
///
/// The layers compute it for a whole batch in one product before their step loop; the
/// inference table of a recurrent network (InputProjectionTable) computes it once for
/// every vocabulary word with the same call, so that both give the same floats.
enum InputProjection {
    /// out [rows × width] = x [rows × inputDim] · weight [width × inputDim]ᵀ + bias [width].
    /// Through RecurrentProduct's packed kernel when the CPU has it (weight packed into
    /// `packedScratch` [tm_packed_panels_floats(inputDim, width)], or into a buffer
    /// allocated for the call without it): its rows do not depend on the other rows,
    /// which OpenBLAS's do not promise (a text alone and in a batch got different last
    /// bits from a stacked bidirectional network), else through OpenBLAS.
    static func compute(x: UnsafePointer<Float>, rows: Int, inputDim: Int, weight: UnsafePointer<Float>,
                        bias: UnsafePointer<Float>, width: Int, into out: UnsafeMutablePointer<Float>,
                        packedScratch: UnsafeMutablePointer<Float>? = nil) {
        for r in 0..<rows { (out + r * width).update(from: bias, count: width) }
        guard rows > 0 else { return }
        RecurrentProduct.withPanels(weight, k: inputDim, n: width, transposed: true, scratch: packedScratch) { panels in
            if let panels = panels {
                panels.multiplyAdd(m: rows, a: x, lda: inputDim, c: out, ldc: width)
            } else {
                BLAS.gemm(transB: true, m: rows, n: width, k: inputDim, a: x, lda: inputDim,
                          b: weight, ldb: inputDim, beta: 1, c: out, ldc: width)
            }
        }
    }

    /// Where a layer's steps get their pre-activations from an inference table
    /// (InputProjectionTable): a value, so passing one allocates nothing.
    struct TableRows {
        /// One direction's table [words × width].
        let table: UnsafePointer<Float>
        let width: Int
        /// True for a reverse direction, whose row (t, b) reads token L_b − 1 − t.
        let reversed: Bool

        /// Step t's rows of out [N × width]: row (t, b) gets the table row of its token,
        /// or, when `reversed`, of token L_b − 1 − t of text b (the reverse direction's
        /// input order, as ReversedRows gathers it). Token ids must be below the table's
        /// rows, as for an embedding lookup. One step at a time, so that the rows are
        /// still in cache when the step reads them. `rows` limits it to those rows of the
        /// step (a block that is about to be used).
        func gather(batch: PackedBatch, step t: Int, into out: UnsafeMutablePointer<Float>, rows: Range<Int>? = nil) {
            let offset = batch.stepOffsets[t], range = rows ?? 0..<batch.stepRows[t]
            batch.tokens.withUnsafeBufferPointer { tokens in
                guard let ids = tokens.baseAddress else { return }
                batch.lengths.withUnsafeBufferPointer { lengths in
                    batch.stepOffsets.withUnsafeBufferPointer { offsets in
                        for b in range {
                            let id = Int(ids[reversed ? offsets[lengths[b] - 1 - t] + b : offset + b])
                            (out + (offset + b) * width).update(from: table + id * width, count: width)
                        }
                    }
                }
            }
        }
    }
}
