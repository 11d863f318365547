import CKernels

extension InputStage {
    /// features [B × E] = each text's mean row of an int8 table (row r = values_r ·
    /// scale_r), summed in token order as `bagMean`: a quarter of the f32 table's bytes
    /// move from memory, which is what a bag prediction waits on.
    func bagMean(_ pass: Pass, quantizedTable q: QuantizedMatrix, into features: UnsafeMutablePointer<Float>) {
        let e = dim, batch = pass.batch, values = UnsafePointer(q.values.pointer), scales = UnsafePointer(q.scales.pointer)
        let ahead = InputStage.prefetchDistance
        batch.tokens.withUnsafeBufferPointer { ids in
            for b in 0..<batch.size {
                let out = features + b * e
                out.update(repeating: 0, count: e)
                let length = batch.lengths[b]
                guard length > 0 else { continue }
                for t in 0..<min(ahead, length) {
                    tm_prefetch_row(values + Int(ids[batch.stepOffsets[t] + b]) * e, e)
                }
                for t in 0..<length {
                    if t + ahead < length {
                        tm_prefetch_row(values + Int(ids[batch.stepOffsets[t + ahead] + b]) * e, e)
                    }
                    let id = Int(ids[batch.stepOffsets[t] + b])
                    let row = values + id * e, scale = scales[id]
                    for j in 0..<e { out[j] += Float(row[j]) * scale }
                }
                let inverse = 1 / Float(length)
                for j in 0..<e { out[j] *= inverse }
            }
        }
    }
}
