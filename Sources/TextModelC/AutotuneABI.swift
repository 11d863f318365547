// The C ABI of autotune (include/textmodel.h, "autotune"): converts the arguments,
// runs the engine's Autotune and hands back the best model and the trial table.
import TextModel
import CTextModelSupport
#if canImport(Glibc)
import Glibc
#endif

public typealias AutotuneFunction = @convention(c) (UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Int32

/// Wraps a C trial callback: it receives each trial's row as JSON (valid during the call).
private func trialHandler(_ callback: AutotuneFunction?, _ userData: UnsafeMutableRawPointer?) -> Autotune.TrialHandler? {
    guard let callback = callback else { return nil }
    return { trial in
        trial.json.serialized.withCString { callback($0, userData) } != 0
    }
}

/// Shared tail: the model and the table out, in that order of checks (both pointers
/// were checked before the search started).
private func finishAutotune(_ result: AutotuneResult, _ outModel: UnsafeMutablePointer<OpaquePointer?>,
                            _ outTrials: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) throws {
    if let outTrials = outTrials { try output(result.json.serialized, to: outTrials) }
    outModel.pointee = ModelHandle(result.model).opaque
}

@_cdecl("tm_autotune")
public func tm_autotune(_ optionsJSON: UnsafePointer<CChar>?, _ texts: CStringArray?, _ labels: CStringArray?, _ count: UInt,
                        _ validTexts: CStringArray?, _ validLabels: CStringArray?, _ validCount: UInt,
                        _ callback: AutotuneFunction?, _ userData: UnsafeMutableRawPointer?,
                        _ outModel: UnsafeMutablePointer<OpaquePointer?>?,
                        _ outTrials: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    abiCall {
        let outModel = try require(outModel, "out_model")
        let options = try AutotuneOptions(json: optionsJSON.map { String(cString: $0) })
        let n = try checkedCount(count, "count")
        guard n > 0 else { throw invalid("count is 0: there is nothing to train on") }
        let vn = try checkedCount(validCount, "valid_count")
        guard vn > 0 else { throw invalid("valid_count is 0: autotune needs validation data to rank its trials") }
        let data = try labelledTexts(texts, labels, n, textsName: "texts", labelsName: "labels")
        let validation = try labelledTexts(validTexts, validLabels, vn, textsName: "valid_texts", labelsName: "valid_labels")
        let result = try Autotune(options: options).run(data, validation: validation, onTrial: trialHandler(callback, userData))
        try finishAutotune(result, outModel, outTrials)
    }
}

@_cdecl("tm_autotune_files")
public func tm_autotune_files(_ optionsJSON: UnsafePointer<CChar>?, _ trainPath: UnsafePointer<CChar>?,
                              _ validPath: UnsafePointer<CChar>?,
                              _ callback: AutotuneFunction?, _ userData: UnsafeMutableRawPointer?,
                              _ outModel: UnsafeMutablePointer<OpaquePointer?>?,
                              _ outTrials: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    abiCall {
        let outModel = try require(outModel, "out_model")
        let options = try AutotuneOptions(json: optionsJSON.map { String(cString: $0) })
        let train = try path(trainPath, "train_path")
        let valid = try path(validPath, "valid_path")
        let result = try Autotune(options: options).run(trainFile: train, validationFile: valid,
                                                        onTrial: trialHandler(callback, userData))
        try finishAutotune(result, outModel, outTrials)
    }
}
