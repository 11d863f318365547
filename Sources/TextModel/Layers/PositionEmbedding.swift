/// Learned absolute positions: packed row (t, b) gets row t of a table P [maxLength × D]
/// added. Shapes: x, dX [N × D] packed rows (row (t, b) at `batch.stepOffsets[t] + b`),
/// table, dTable [maxLength × D]. No saved activations and no scratch.
///
/// Steps t ≥ maxLength get no position row: the tokenizer's length limit keeps texts
/// within the table, and this only keeps a mismatch from reading past its end.
enum PositionEmbedding {
    /// Floats in the table.
    static func tableCount(maxLength: Int, dim: Int) -> Int { maxLength * dim }

    /// x += P[t] for every packed row, in place.
    static func forward(x: UnsafeMutablePointer<Float>, batch: PackedBatch, dim: Int,
                        table: UnsafePointer<Float>, maxLength: Int) {
        for t in 0..<Swift.max(0, Swift.min(batch.steps, maxLength)) {
            let position = table + t * dim
            let first = batch.stepOffsets[t]
            // A step's rows are contiguous: all running texts at position t.
            for r in first..<(first + batch.stepRows[t]) {
                let row = x + r * dim
                for j in 0..<dim { row[j] += position[j] }
            }
        }
    }

    /// dTable[t] += Σ_b dX[(t, b)]. The gradient with respect to x is dX itself (the
    /// addition passes it through), so there is nothing else to do; nil dTable (a frozen
    /// table) makes this a no-op.
    static func backward(dX: UnsafePointer<Float>, batch: PackedBatch, dim: Int,
                         dTable: UnsafeMutablePointer<Float>?, maxLength: Int) {
        guard let dTable = dTable else { return }
        for t in 0..<Swift.max(0, Swift.min(batch.steps, maxLength)) {
            let position = dTable + t * dim
            let first = batch.stepOffsets[t]
            for r in first..<(first + batch.stepRows[t]) {
                let row = dX + r * dim
                for j in 0..<dim { position[j] += row[j] }
            }
        }
    }
}
