// The C ABI of bag-model compression (include/textmodel.h, "bag-model compression"):
// converts the options and data and delegates to Model.quantized.
import TextModel
import CTextModelSupport

@_cdecl("tm_quantize_options_init")
public func tm_quantize_options_init(_ options: UnsafeMutablePointer<tm_quantize_options>?) {
    guard let options = options else { return }
    let d = QuantizeOptions()
    var o = tm_quantize_options()
    o.struct_size = MemoryLayout<tm_quantize_options>.size
    o.cutoff = d.cutoff
    o.dsub = Int32(d.dsub)
    o.qnorm = d.qnorm ? 1 : 0
    o.retrain = d.retrain ? 1 : 0
    o.epochs = Int32(d.epochs)
    o.learning_rate = d.learningRate
    o.prune_untouched = d.pruneUntouched ? 1 : 0
    o.iterations = Int32(d.iterations)
    o.sample_rows = d.sampleRows
    o.seed = d.seed
    o.threads = Int32(d.threads)
    options.pointee = o
}

private func quantizeOptions(_ p: UnsafePointer<tm_quantize_options>?) throws -> QuantizeOptions {
    var o = QuantizeOptions()
    guard let p = p else { return o }
    guard p.pointee.struct_size >= MemoryLayout<tm_quantize_options>.size else {
        throw invalid("options->struct_size is \(p.pointee.struct_size), smaller than this library's tm_quantize_options (\(MemoryLayout<tm_quantize_options>.size)): fill the options with tm_quantize_options_init")
    }
    let c = p.pointee
    guard c.cutoff >= 0, c.cutoff <= Int(Int32.max) else { throw invalid("options->cutoff \(c.cutoff) is larger than any model's rows") }
    guard c.sample_rows >= 0, c.sample_rows <= Int(Int32.max) else { throw invalid("options->sample_rows \(c.sample_rows) is too large") }
    o.cutoff = Int(c.cutoff)
    o.dsub = Int(c.dsub)
    o.qnorm = c.qnorm != 0
    o.retrain = c.retrain != 0
    o.epochs = Int(c.epochs)
    o.learningRate = c.learning_rate
    o.pruneUntouched = c.prune_untouched != 0
    o.iterations = Int(c.iterations)
    o.sampleRows = Int(c.sample_rows)
    o.seed = c.seed
    o.threads = Int(c.threads)
    return o
}

@_cdecl("tm_model_quantize")
public func tm_model_quantize(_ model: OpaquePointer?, _ options: UnsafePointer<tm_quantize_options>?,
                              _ texts: CStringArray?, _ labels: CStringArray?, _ count: UInt,
                              _ outModel: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    abiCall {
        let h = try handle(model)
        let out = try require(outModel, "out_model")
        let parsed = try quantizeOptions(options)
        let n = try checkedCount(count, "count")
        let data = n > 0 ? try labelledTexts(texts, labels, n, textsName: "texts", labelsName: "labels") : nil
        out.pointee = ModelHandle(try h.model.quantized(parsed, training: data)).opaque
    }
}

@_cdecl("tm_model_quantize_files")
public func tm_model_quantize_files(_ model: OpaquePointer?, _ options: UnsafePointer<tm_quantize_options>?,
                                    _ trainPath: UnsafePointer<CChar>?,
                                    _ outModel: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    abiCall {
        let h = try handle(model)
        let out = try require(outModel, "out_model")
        let parsed = try quantizeOptions(options)
        let quantized = trainPath == nil ? try h.model.quantized(parsed, training: nil)
            : try h.model.quantized(parsed, trainingFile: try path(trainPath, "train_path"))
        out.pointee = ModelHandle(quantized).opaque
    }
}

@_cdecl("tm_model_is_quantized")
public func tm_model_is_quantized(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<Int32>?) -> Int32 {
    abiCall {
        let h = try handle(model)
        let out = try require(out, "out_quantized")
        out.pointee = h.model.isQuantized ? 1 : 0
    }
}
