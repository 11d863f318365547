/// An int8 matrix's row scales as 15-bit integer multipliers of one shared unit:
/// scale_r ≈ multipliers[r] · unit, unit = (the largest scale of a row holding a nonzero
/// value) / 32767, multipliers[r] = round(scale_r / unit) in 0 ... 32767.
///
/// Why: with every row on one unit, the int8 bag model's mean row is an exact integer
/// sum (int8 value × int16 multiplier, added in int32: tm_bag_mean_int8_avx2 and
/// InputStage.bagMean(values:multipliers:...)), two rows to one vpmaddwd, instead of a
/// convert and a multiply-add per value. The price is the multiplier's rounding: at most
/// unit / 2 on each scale, so at most 127 · unit / 2 = (the table's largest |weight|) / 2^16
/// on each value, beside the int8 rounding of up to scale_r / 2 it already has.
/// Derived from the scales at load; model files do not store it.
struct RowMultipliers {
    let multipliers: Buffer<Int16>
    let unit: Float

    /// The multipliers of `rows` rows of `columns` int8 values with f32 `scales` (each
    /// finite and positive, as QuantizedMatrix checks). An all-zero row gets multiplier
    /// 0 (its values contribute nothing) and does not count for the unit: such rows have
    /// scale 1, however small the other rows' scales.
    init(values: UnsafePointer<Int8>, scales: UnsafePointer<Float>, rows: Int, columns: Int) throws {
        multipliers = try Buffer<Int16>.allocate(count: rows, what: "int8 row multipliers")
        var nonzero = [Bool](repeating: false, count: rows)
        var top: Float = 0
        for r in 0..<rows {
            let row = values + r * columns
            for k in 0..<columns where row[k] != 0 {
                nonzero[r] = true
                break
            }
            if nonzero[r] { top = max(top, scales[r]) }
        }
        guard top > 0 else {
            unit = 1   // every row is zero: every multiplier 0
            return
        }
        // In Double: scale / top ≤ 1 exactly for the largest row, so no multiplier passes 32767.
        let topValue = Double(top)
        unit = Float(topValue / 32767)
        for r in 0..<rows where nonzero[r] {
            let m = (Double(scales[r]) / topValue * 32767).rounded(.toNearestOrEven)
            multipliers.pointer[r] = Int16(max(0, min(32767, m)))
        }
    }
}
