#if canImport(Glibc)
import Glibc
#endif
import TextModel

// Saving with f16 or int8 weights, and the precision of a model (include/textmodel.h,
// "weight precision").

/// The static C strings tm_model_precision hands out: made once, never freed.
private let precisionNames: [WeightPrecision: UnsafePointer<CChar>] = Dictionary(uniqueKeysWithValues:
    WeightPrecision.allCases.compactMap { p in strdup(p.name).map { (p, UnsafePointer($0)) } })

private func precision(_ dtype: UnsafePointer<CChar>?) throws -> WeightPrecision {
    let name = try string(dtype, "dtype")
    guard let p = WeightPrecision(name: name) else {
        throw invalid("dtype \"\(name)\" is not one of \"f32\", \"f16\", \"int8\"")
    }
    return p
}

@_cdecl("tm_model_save_as")
public func tm_model_save_as(_ model: OpaquePointer?, _ path: UnsafePointer<CChar>?, _ dtype: UnsafePointer<CChar>?) -> Int32 {
    abiCall {
        let h = try handle(model)
        let file = try TextModelC.path(path, "path")
        try h.model.save(to: file, precision: try precision(dtype))
    }
}

@_cdecl("tm_model_save_to_memory_as")
public func tm_model_save_to_memory_as(_ model: OpaquePointer?, _ dtype: UnsafePointer<CChar>?,
                                       _ outBytes: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?,
                                       _ outSize: UnsafeMutablePointer<Int>?) -> Int32 {
    abiCall {
        let h = try handle(model)
        let p = try precision(dtype)
        let bytesOut = try require(outBytes, "out_bytes")
        let sizeOut = try require(outSize, "out_size")
        let (bytes, count) = try h.model.serialized(precision: p, allocate: { malloc($0) })
        bytesOut.pointee = bytes.assumingMemoryBound(to: UInt8.self)
        sizeOut.pointee = count
    }
}

@_cdecl("tm_model_precision")
public func tm_model_precision(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> Int32 {
    abiCall {
        let h = try handle(model)
        let out = try require(out, "out_dtype")
        guard let name = precisionNames[try h.model.weightPrecision()] else {
            throw TextModelError(.resource, "out of memory naming the model's precision")
        }
        out.pointee = name
    }
}
