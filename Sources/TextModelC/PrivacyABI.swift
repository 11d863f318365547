// The C ABI of differentially private training (declared and documented in
// include/textmodel.h, "Differential privacy"): converts and delegates to
// Model.privacyJSON.
import TextModel
import CTextModelSupport

@_cdecl("tm_model_privacy_json")
public func tm_model_privacy_json(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    abiCall {
        let h = try handle(model)
        let target = try require(out, "out_json")
        try output(h.model.privacyJSON().serialized, to: target)
    }
}
