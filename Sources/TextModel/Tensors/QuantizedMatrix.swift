import CKernels

/// A weight matrix stored as int8 with one f32 scale per row: W ≈ diag(scales) · values.
/// Shapes: values [R × K] row-major (a row is an output channel or an embedding row),
/// scales [R], rowSums [qmm_padded_columns(R)] (Σ_k values, zeros past R: the VNNI
/// kernel's correction), packed (values in the VNNI kernel's layout, qmm_pack, which the
/// AVX2 kernel reads too; only on CPUs that run one of them).
///
/// Quantization is symmetric: scale = max|w_row| / 127 and value = round(w / scale)
/// (half to even) in [−127, 127]; an all-zero row gets scale 1 and zeros, so every
/// scale is finite and positive. `linear` is the int8 layer y = x · Wᵀ + b: x is
/// quantized row by row on the fly with its own scale, the products accumulate in
/// int32 (CKernels' int8_matmul: AVX-512 VNNI, AVX2 or portable, the same sums), and
/// each output is sum · scale_x · scale_w (+ b). Every output depends only on its own
/// input row, so results do not depend on batch composition or threads.
final class QuantizedMatrix {
    let rows: Int
    let columns: Int
    let values: Buffer<Int8>
    let scales: FloatBuffer
    let rowSums: IndexBuffer
    let packed: Buffer<Int8>?
    /// The scales as integer multipliers of one unit: what the int8 bag mean sums with.
    let multipliers: RowMultipliers

    /// The kernel path every product runs (tests may pick another supported one).
    static let bestPath = Int32(qmm_best_path())

    /// Quantizes `weights` [rows × columns].
    init(quantizing weights: UnsafePointer<Float>, rows: Int, columns: Int) throws {
        self.rows = rows
        self.columns = columns
        values = try Buffer<Int8>.allocate(count: rows * columns, what: "int8 weights", hugePages: true)
        scales = try FloatBuffer.allocate(count: rows, what: "int8 weight scales")
        rowSums = try IndexBuffer.allocate(count: qmm_padded_columns(rows), what: "int8 weight row sums")
        packed = try QuantizedMatrix.packedBuffer(rows, columns)
        for r in 0..<rows {
            scales.pointer[r] = QuantizedMatrix.quantizeRow(weights + r * columns, count: columns,
                                                            into: values.pointer + r * columns)
        }
        multipliers = try RowMultipliers(values: values.pointer, scales: scales.pointer, rows: rows, columns: columns)
        prepare()
    }

    /// The VNNI layout's buffer, when this CPU runs a kernel that reads it (VNNI, AVX2).
    private static func packedBuffer(_ rows: Int, _ columns: Int) throws -> Buffer<Int8>? {
        guard qmm_path_supported(Int32(QMM_VNNI)) != 0 || qmm_path_supported(Int32(QMM_AVX2)) != 0 else { return nil }
        return try Buffer<Int8>.allocate(count: qmm_packed_bytes(rows, columns), what: "packed int8 weights")
    }

    private func prepare() {
        qmm_row_sums(values.pointer, rows, columns, rowSums.pointer)
        if let packed = packed { qmm_pack(values.pointer, rows, columns, packed.pointer) }
    }

    /// A matrix of stored values and scales (a model file's), copied; nil if a scale is
    /// not finite and positive or a value is −128.
    /// `products: false` (a lookup table, never multiplied) skips the VNNI copy.
    init?(values source: UnsafeRawBufferPointer, scales scaleSource: UnsafeRawBufferPointer, rows: Int, columns: Int,
          products: Bool = true) throws {
        guard source.count == rows * columns, scaleSource.count == rows * 4 else { return nil }
        self.rows = rows
        self.columns = columns
        values = try Buffer<Int8>.allocate(count: rows * columns, what: "int8 weights", hugePages: true)
        scales = try FloatBuffer.allocate(count: rows, what: "int8 weight scales")
        rowSums = try IndexBuffer.allocate(count: qmm_padded_columns(rows), what: "int8 weight row sums")
        packed = products ? try QuantizedMatrix.packedBuffer(rows, columns) : nil
        if let base = source.baseAddress, source.count > 0 {
            UnsafeMutableRawPointer(values.pointer).copyMemory(from: base, byteCount: source.count)
        }
        if let base = scaleSource.baseAddress, scaleSource.count > 0 {
            UnsafeMutableRawPointer(scales.pointer).copyMemory(from: base, byteCount: scaleSource.count)
        }
        for r in 0..<rows where !(scales.pointer[r].isFinite && scales.pointer[r] > 0) { return nil }
        for i in 0..<(rows * columns) where values.pointer[i] == -128 { return nil }
        multipliers = try RowMultipliers(values: values.pointer, scales: scales.pointer, rows: rows, columns: columns)
        prepare()
    }

    /// Writes `count` weights as int8 into `out` and returns their scale.
    static func quantizeRow(_ w: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<Int8>) -> Float {
        var top: Float = 0
        for k in 0..<count { top = max(top, abs(w[k])) }
        guard top > 0 else {
            out.update(repeating: 0, count: count)
            return 1
        }
        let scale = top / 127, inverse = 127 / top
        for k in 0..<count {
            let v = (w[k] * inverse).rounded(.toNearestOrEven)
            out[k] = Int8(max(-127, min(127, v)))
        }
        return scale
    }

    /// W as f32 [rows × columns]: value · scale.
    func dequantize(into out: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let s = scales.pointer[r], v = values.pointer + r * columns, o = out + r * columns
            for k in 0..<columns { o[k] = Float(v[k]) * s }
        }
    }

    /// out[i·ldo + j] (+)= x_i · W_jᵀ (+ bias_j) for x [count × columns] contiguous;
    /// `accumulate` adds to what out holds (the LSTM's gates) instead of replacing it.
    func linear(x: UnsafePointer<Float>, count: Int, bias: UnsafePointer<Float>?, out: UnsafeMutablePointer<Float>,
                ldo: Int? = nil, accumulate: Bool = false, path: Int32 = QuantizedMatrix.bestPath) {
        qmm_linear(path, x, count, columns, values.pointer, packed?.pointer, scales.pointer, rowSums.pointer, rows, bias,
                   accumulate ? 1 : 0, out, ldo ?? rows)
    }
}

/// The int8 matrices of a loaded int8 model, by the layout offset of the tensor each
/// replaces (ParameterLayout.Tensor.offset). Immutable; shared by every thread.
final class QuantizedWeights {
    private let matrices: [Int: QuantizedMatrix]

    init(_ matrices: [Int: QuantizedMatrix]) { self.matrices = matrices }

    subscript(tensor: ParameterLayout.Tensor) -> QuantizedMatrix? { matrices[tensor.offset] }

    var count: Int { matrices.count }
}
