// The C ABI for training with the parameters exchanged while it runs (declared and
// documented in include/textmodel.h, tm_model_train_exchanging): converts and
// delegates to Model+Exchange.
import TextModel
import CTextModelSupport

/// tm_exchange_fn: replaces parameters[0 ..< count] in place; non-zero stops training.
public typealias ExchangeFunction = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<Float>?, Int, Int64) -> Int32

/// A C exchange callback as a ParameterExchange.
private struct CExchange: ParameterExchange {
    let function: ExchangeFunction
    let context: UnsafeMutableRawPointer?

    func exchange(_ parameters: UnsafeMutablePointer<Float>, count: Int, step: Int) throws {
        let result = function(context, parameters, count, Int64(step))
        guard result == 0 else {
            throw TextModelError(.cancelled, "the parameter exchange callback returned \(result) at step \(step): training stopped, and the model is left as it was before this call")
        }
    }
}

@_cdecl("tm_model_train_exchanging")
public func tm_model_train_exchanging(_ model: OpaquePointer?, _ texts: CStringArray?, _ labels: CStringArray?, _ count: UInt,
                                      _ validTexts: CStringArray?, _ validLabels: CStringArray?, _ validCount: UInt,
                                      _ countsJSON: UnsafePointer<CChar>?, _ syncEvery: Int64, _ exchange: ExchangeFunction?, _ exchangeContext: UnsafeMutableRawPointer?,
                                      _ progress: ProgressFunction?, _ userData: UnsafeMutableRawPointer?,
                                      _ outReport: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    abiCall {
        let h = try handle(model)
        let function = try require(exchange, "exchange")
        guard syncEvery >= 0, syncEvery <= Int64(Int32.max) else {
            throw invalid("sync_every must be 0 (exchange at epoch ends only) or a positive number of optimizer steps up to 2^31-1; got \(syncEvery)")
        }
        let (data, validation) = try trainingRows(texts, labels, count, validTexts, validLabels, validCount)
        let counts = try countsJSON.map { try CorpusCounts(json: String(cString: $0), what: "counts_json") }
        let report = try h.model.train(data, validation: validation, counts: counts,
                                       exchange: CExchange(function: function, context: exchangeContext),
                                       syncEvery: Int(syncEvery), progress: progressHandler(progress, userData))
        try finishTraining(report, outReport)
    }
}
