import CKernels

extension InputStage {
    /// features [B × E] = each text's mean row of an int8 table (row r = values_r ·
    /// multipliers_r · unit, RowMultipliers), summed in token order as `bagMean`: a
    /// quarter of the f32 table's bytes move from memory, which is what a bag prediction
    /// waits on. The sums are integers (exact, so independent of the order rows are
    /// added in): on AVX2 CPUs tm_bag_mean_int8_avx2 adds two rows at a time and gives
    /// the floats of the Swift loop, bit for bit (BagMeanKernelTests).
    func bagMean(_ pass: Pass, quantizedTable q: QuantizedMatrix, into features: UnsafeMutablePointer<Float>) {
        let e = dim, batch = pass.batch, values = UnsafePointer(q.values.pointer)
        let multipliers = UnsafePointer(q.multipliers.multipliers.pointer), unit = q.multipliers.unit
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
                            tm_bag_mean_int8_avx2(values, multipliers, unit, e, idBase, offsetBase, b, lengths[b],
                                                  InputStage.int8PrefetchDistance, features + b * e)
                        } else {
                            InputStage.bagMean(values: values, multipliers: multipliers, unit: unit, dim: e, ids: idBase,
                                               offsets: offsetBase, text: b, length: lengths[b], into: features + b * e)
                        }
                    }
                }
            }
        }
    }

    /// One text's mean row of an int8 table, the sums tm_bag_mean_int8_avx2 computes:
    /// lane j = (Σ over chunks of TM_BAG_INT8_CHUNK tokens, in order, of
    /// Float(Σ_t value · multiplier in Int32)) · (unit / length); zeros for length 0.
    /// The chunks keep every Int32 sum below 2^31 (the bound is in bag_mean_int8.c).
    /// Lanes go 16 at a time, each block's sums in a SIMD register over the text's rows:
    /// no scratch memory, so nothing is allocated.
    static func bagMean(values: UnsafePointer<Int8>, multipliers: UnsafePointer<Int16>, unit: Float, dim e: Int,
                        ids: UnsafePointer<Int32>, offsets: UnsafePointer<Int>, text b: Int, length: Int,
                        into out: UnsafeMutablePointer<Float>) {
        guard length > 0 else {
            out.update(repeating: 0, count: e)
            return
        }
        let ahead = InputStage.int8PrefetchDistance, chunk = Int(TM_BAG_INT8_CHUNK)
        for t in 0..<min(ahead, length) {
            tm_prefetch_row(values + Int(ids[offsets[t] + b]) * e, e)
        }
        let factor = unit / Float(length)
        var j0 = 0
        while j0 < e {
            let n = min(16, e - j0)
            var total = SIMD16<Float>()
            var start = 0
            while start < length {
                let end = min(start + chunk, length)
                var sum = SIMD16<Int32>()
                for t in start..<end {
                    if j0 == 0 && t + ahead < length {
                        tm_prefetch_row(values + Int(ids[offsets[t + ahead] + b]) * e, e)
                    }
                    let id = Int(ids[offsets[t] + b])
                    let row = values + id * e + j0, m = Int32(multipliers[id])
                    for k in 0..<n { sum[k] &+= Int32(row[k]) &* m }
                }
                for k in 0..<n { total[k] += Float(sum[k]) }
                start = end
            }
            for k in 0..<n { out[j0 + k] = total[k] * factor }
            j0 += n
        }
    }
}
