// The C ABI for models as bytes in memory (declared and documented in
// include/textmodel.h, "Models as bytes"): converts and delegates to Model.serialized
// and Model.load(copying:source:).
import TextModel
import CTextModelSupport
#if canImport(Glibc)
import Glibc
#endif

@_cdecl("tm_model_save_to_memory")
public func tm_model_save_to_memory(_ model: OpaquePointer?, _ outBytes: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?,
                                    _ outSize: UnsafeMutablePointer<Int>?) -> Int32 {
    abiCall {
        let h = try handle(model)
        let bytesOut = try require(outBytes, "out_bytes")
        let sizeOut = try require(outSize, "out_size")
        let (bytes, count) = try h.model.serialized(allocate: { malloc($0) })
        bytesOut.pointee = bytes.assumingMemoryBound(to: UInt8.self)
        sizeOut.pointee = count
    }
}

@_cdecl("tm_bytes_free")
public func tm_bytes_free(_ bytes: UnsafeMutablePointer<UInt8>?) {
    free(bytes)
}

@_cdecl("tm_model_load_from_memory")
public func tm_model_load_from_memory(_ bytes: UnsafePointer<UInt8>?, _ size: UInt,
                                      _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    abiCall {
        let out = try require(out, "out_model")
        guard let bytes = bytes else {
            throw invalid(size == 0 ? "bytes is NULL" : "bytes is NULL but size is \(size)")
        }
        guard size <= UInt(Int.max) else { throw TextModelError(.resource, "size \(size) is larger than any model") }
        let source = "the \(size)-byte buffer given to tm_model_load_from_memory"
        let buffer = UnsafeRawBufferPointer(start: bytes, count: Int(size))
        out.pointee = ModelHandle(try Model.load(copying: buffer, source: source)).opaque
    }
}
