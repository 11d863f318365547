import CKernels

extension InputStage {
    /// features [B × E] = each text's mean row of an int8 table (row r = values_r ·
    /// scale_r), summed in token order as `bagMean`: a quarter of the f32 table's bytes
    /// move from memory, which is what a bag prediction waits on. On AVX2 CPUs
    /// tm_bag_mean_int8_avx2 runs the same fused multiply-adds in the same order, with
    /// each block of lanes in registers over the text's rows (BagMeanKernelTests).
    func bagMean(_ pass: Pass, quantizedTable q: QuantizedMatrix, into features: UnsafeMutablePointer<Float>) {
        let e = dim, batch = pass.batch, values = UnsafePointer(q.values.pointer), scales = UnsafePointer(q.scales.pointer)
        // The batch's arrays read once, as buffers (as in the f32 bagMean).
        batch.tokens.withUnsafeBufferPointer { ids in
            batch.stepOffsets.withUnsafeBufferPointer { offsets in
                batch.lengths.withUnsafeBufferPointer { lengths in
                    guard let idBase = ids.baseAddress, let offsetBase = offsets.baseAddress else {
                        features.update(repeating: 0, count: lengths.count * e)   // every text is empty
                        return
                    }
                    for b in 0..<lengths.count {
                        if InputStage.avx2 {
                            tm_bag_mean_int8_avx2(values, scales, e, idBase, offsetBase, b, lengths[b],
                                                  InputStage.int8PrefetchDistance, features + b * e)
                        } else {
                            InputStage.bagMean(values: values, scales: scales, dim: e, ids: idBase, offsets: offsetBase,
                                               text: b, length: lengths[b], into: features + b * e)
                        }
                    }
                }
            }
        }
    }

    /// One text's mean row of an int8 table: the loop tm_bag_mean_int8_avx2 runs 8 lanes
    /// at a time (value × scale + sum as one fused multiply-add, one rounding, in token
    /// order; zeros for length 0). Fused: a third fewer instructions a lane in the kernel.
    static func bagMean(values: UnsafePointer<Int8>, scales: UnsafePointer<Float>, dim e: Int,
                        ids: UnsafePointer<Int32>, offsets: UnsafePointer<Int>, text b: Int, length: Int,
                        into out: UnsafeMutablePointer<Float>) {
        out.update(repeating: 0, count: e)
        guard length > 0 else { return }
        let ahead = InputStage.int8PrefetchDistance
        for t in 0..<min(ahead, length) {
            tm_prefetch_row(values + Int(ids[offsets[t] + b]) * e, e)
        }
        for t in 0..<length {
            if t + ahead < length {
                tm_prefetch_row(values + Int(ids[offsets[t + ahead] + b]) * e, e)
            }
            let id = Int(ids[offsets[t] + b])
            let row = values + id * e, scale = scales[id]
            for j in 0..<e { out[j] = out[j].addingProduct(Float(row[j]), scale) }
        }
        let inverse = 1 / Float(length)
        for j in 0..<e { out[j] *= inverse }
    }
}
