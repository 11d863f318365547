/// How a model file stores its weights for each WeightPrecision (the tensors after the
/// header; see ModelFile and ModelFileFormats):
///
///   f32   every layout tensor as F32, back to back in layout order (formats 1, 2)
///   f16   every layout tensor as F16 (formats 3, 5)
///   int8  every matrix (rank ≥ 2) as I8 of its shape, followed by "<name>.scale", F32
///         [rows] (one scale per row, the first dimension); vectors as F32 (formats 3, 5)
///
/// Format 5 stores the VocabularyTensor after these (ModelFile writes and reads it).
///
/// Tensors are laid out back to back in that order, so a reader checks every entry's
/// dtype, shape and offsets against the one layout the config implies.
enum WeightEncoding {
    /// Whether `tensor` is stored as int8 in an int8 file.
    static func isMatrix(_ tensor: ParameterLayout.Tensor) -> Bool { tensor.shape.count >= 2 && tensor.count > 0 }

    /// Matrices that are looked up by row, never multiplied: int8 inference reads their
    /// rows (the bag's sums) or their dequantized floats, so they get no VNNI copy.
    static let lookupTables: Set<String> = ["embedding.weight", "transformer.position"]

    /// Rows × columns of a matrix tensor: its first dimension × the rest.
    static func rows(_ t: ParameterLayout.Tensor) -> (rows: Int, columns: Int) {
        (t.shape[0], t.shape[0] == 0 ? 0 : t.count / t.shape[0])
    }

    /// One entry of a file's header as a reader expects it.
    struct Entry {
        let name: String
        let dtype: String
        let shape: [Int]
        let byteCount: Int
    }

    /// The entries a file of `precision` holds for `layout`, in order.
    static func entries(_ layout: ParameterLayout, _ precision: WeightPrecision) -> [Entry] {
        layout.tensors.flatMap { t -> [Entry] in
            switch precision {
            case .f32: return [Entry(name: t.name, dtype: "F32", shape: t.shape, byteCount: t.count * 4)]
            case .f16: return [Entry(name: t.name, dtype: "F16", shape: t.shape, byteCount: t.count * 2)]
            case .int8:
                guard isMatrix(t) else { return [Entry(name: t.name, dtype: "F32", shape: t.shape, byteCount: t.count * 4)] }
                return [Entry(name: t.name, dtype: "I8", shape: t.shape, byteCount: t.count),
                        Entry(name: t.name + ".scale", dtype: "F32", shape: [t.shape[0]], byteCount: t.shape[0] * 4)]
            }
        }
    }

    /// The tensors of an f16 or int8 file. `quantized` (an int8 model's own matrices) is
    /// written as it is rather than quantized again. An f16 file refuses weights beyond
    /// f16's range (±65504) instead of writing infinities.
    static func encode(_ layout: ParameterLayout, parameters p: UnsafePointer<Float>, quantized: QuantizedWeights?,
                       precision: WeightPrecision) throws -> [SafeTensors.Tensor] {
        var tensors = [SafeTensors.Tensor]()
        for t in layout.tensors {
            let w = p + t.offset
            switch precision {
            case .f32:
                tensors.append(.init(name: t.name, dtype: "F32", shape: t.shape, bytes: [UInt8](rawBytesOf: w, count: t.count)))
            case .f16:
                var halves = [Float16](repeating: 0, count: t.count)
                for k in 0..<t.count {
                    let h = Float16(w[k])
                    guard h.isFinite else {
                        throw TextModelError.invalidArgument("weight \(k) of \(t.name) (\(w[k])) is beyond the range of f16 (±65504): save this model as f32 or int8")
                    }
                    halves[k] = h
                }
                tensors.append(.init(name: t.name, dtype: "F16", shape: t.shape,
                                     bytes: halves.withUnsafeBufferPointer { [UInt8](rawBytesOf: $0.baseAddress!, count: t.count) }))
            case .int8:
                guard isMatrix(t) else {
                    tensors.append(.init(name: t.name, dtype: "F32", shape: t.shape, bytes: [UInt8](rawBytesOf: w, count: t.count)))
                    continue
                }
                let (r, c) = rows(t)
                let matrix = try quantized?[t] ?? QuantizedMatrix(quantizing: w, rows: r, columns: c)
                tensors.append(.init(name: t.name, dtype: "I8", shape: t.shape,
                                     bytes: [UInt8](rawBytesOf: matrix.values.pointer, count: t.count)))
                tensors.append(.init(name: t.name + ".scale", dtype: "F32", shape: [r],
                                     bytes: [UInt8](rawBytesOf: matrix.scales.pointer, count: r)))
            }
        }
        return tensors
    }

    /// Decodes the weights of an f16 or int8 file's data (already checked to hold
    /// `entries(layout, precision)` back to back) into f32 `parameters`; an int8 file
    /// also returns its matrices for int8 inference. `bad` names the file.
    static func decode(_ data: UnsafeRawBufferPointer, layout: ParameterLayout, precision: WeightPrecision,
                       into parameters: UnsafeMutablePointer<Float>,
                       bad: (String) -> TextModelError) throws -> QuantizedWeights? {
        var offset = 0
        func take(_ count: Int) -> UnsafeRawBufferPointer {
            defer { offset += count }
            return UnsafeRawBufferPointer(rebasing: data[offset..<(offset + count)])
        }
        var matrices = [Int: QuantizedMatrix]()
        for t in layout.tensors {
            let out = parameters + t.offset
            switch precision {
            case .f32:
                let bytes = take(t.count * 4)
                if t.count > 0 { UnsafeMutableRawPointer(out).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
            case .f16:
                let bytes = take(t.count * 2)
                for k in 0..<t.count {
                    let bits = UInt16(bytes[2 * k]) | UInt16(bytes[2 * k + 1]) << 8
                    out[k] = Float(Float16(bitPattern: bits))
                }
            case .int8:
                guard isMatrix(t) else {
                    let bytes = take(t.count * 4)
                    if t.count > 0 { UnsafeMutableRawPointer(out).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
                    continue
                }
                let (r, c) = rows(t)
                let values = take(t.count), scales = take(r * 4)
                guard let matrix = try QuantizedMatrix(values: values, scales: scales, rows: r, columns: c,
                                                          products: !lookupTables.contains(t.name)) else {
                    throw bad("tensor \(t.name).scale holds a scale that is not a finite positive number, or \(t.name) holds −128 (corrupted)")
                }
                matrix.dequantize(into: out)
                matrices[t.offset] = matrix
            }
        }
        return precision == .int8 ? QuantizedWeights(matrices) : nil
    }
}
