// The C ABI of single-text prediction (tm_model_predict_one): converts, delegates to
// Model.predictOne, converts back. Declarations and documentation: include/textmodel.h.
import TextModel
#if canImport(Glibc)
import Glibc
#endif

@_cdecl("tm_model_predict_one")
public func tm_model_predict_one(_ model: OpaquePointer?, _ text: UnsafePointer<CChar>?,
                                 _ outLabel: UnsafeMutablePointer<Int32>?, _ outProb: UnsafeMutablePointer<Float>?) -> Int32 {
    abiCall {
        let h = try handle(model)
        let text = try require(text, "text")
        let label = try require(outLabel, "out_label")
        let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(text).assumingMemoryBound(to: UInt8.self), count: strlen(text))
        let best = try h.model.predictOne(utf8: bytes)
        label.pointee = Int32(best.label)
        outProb?.pointee = best.probability
    }
}
