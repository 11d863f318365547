// The C ABI for training across processes (declared and documented in
// include/textmodel.h, "Training across processes"): converts and delegates to
// CorpusCounts and Model+Distributed.
import TextModel
import CTextModelSupport
#if canImport(Glibc)
import Glibc
#endif

@_cdecl("tm_corpus_counts")
public func tm_corpus_counts(_ configJSON: UnsafePointer<CChar>?, _ texts: CStringArray?, _ labels: CStringArray?, _ count: UInt,
                             _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    abiCall {
        let out = try require(out, "out_counts_json")
        let config = try Config(json: configJSON.map { String(cString: $0) })
        let data = try labelledTexts(texts, labels, try checkedCount(count, "count"), textsName: "texts", labelsName: "labels")
        try output(CorpusCounts(config: config, data: data).json.serialized, to: out)
    }
}

@_cdecl("tm_corpus_counts_merge")
public func tm_corpus_counts_merge(_ counts: CStringArray?, _ count: UInt,
                                   _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    abiCall {
        let out = try require(out, "out_counts_json")
        let items = try strings(counts, try checkedCount(count, "count"), "counts_json")
        var merged = CorpusCounts()
        for (i, item) in items.enumerated() {
            merged.merge(try CorpusCounts(json: item ?? "", what: "counts_json[\(i)]"))
        }
        try output(merged.json.serialized, to: out)
    }
}

@_cdecl("tm_model_train_epochs")
public func tm_model_train_epochs(_ model: OpaquePointer?, _ texts: CStringArray?, _ labels: CStringArray?, _ count: UInt,
                                  _ countsJSON: UnsafePointer<CChar>?,
                                  _ state: UnsafePointer<UInt8>?, _ stateSize: UInt,
                                  _ parameters: UnsafePointer<Float>?, _ parameterCount: UInt,
                                  _ lastEpoch: Int32,
                                  _ outState: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?,
                                  _ outStateSize: UnsafeMutablePointer<Int>?,
                                  _ outReport: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    abiCall {
        let h = try handle(model)
        let stateOut = try require(outState, "out_state")
        let stateSizeOut = try require(outStateSize, "out_state_size")
        let n = try checkedCount(count, "count")
        guard n > 0 else { throw invalid("count is 0: there is nothing to train on") }
        let data = try labelledTexts(texts, labels, n, textsName: "texts", labelsName: "labels")
        let counts = try countsJSON.map { try CorpusCounts(json: String(cString: $0), what: "counts_json") }
        var given: [UInt8]? = nil
        if let state = state {
            guard stateSize > 0, stateSize <= UInt(Int32.max) else { throw invalid("state_size is \(stateSize)") }
            given = Array(UnsafeBufferPointer(start: state, count: Int(stateSize)))
        } else if stateSize != 0 {
            throw invalid("state is NULL but state_size is \(stateSize)")
        }
        var weights: [Float]? = nil
        if let parameters = parameters {
            weights = Array(UnsafeBufferPointer(start: parameters, count: try checkedCount(parameterCount, "parameter_count")))
        } else if parameterCount != 0 {
            throw invalid("parameters is NULL but parameter_count is \(parameterCount)")
        }
        let (report, newState) = try h.model.trainEpochs(data, counts: counts, state: given, parameters: weights,
                                                         lastEpoch: Int(lastEpoch))
        guard let buffer = malloc(max(newState.count, 1))?.assumingMemoryBound(to: UInt8.self) else {
            throw TextModelError(.resource, "out of memory copying the \(newState.count)-byte training state")
        }
        newState.withUnsafeBufferPointer { if let base = $0.baseAddress { buffer.update(from: base, count: $0.count) } }
        if let outReport = outReport {
            guard let copy = strdup(report.json.serialized) else {
                free(buffer)
                throw TextModelError(.resource, "out of memory copying the training report")
            }
            outReport.pointee = copy
        }
        stateOut.pointee = buffer
        stateSizeOut.pointee = newState.count
    }
}

@_cdecl("tm_model_parameter_count")
public func tm_model_parameter_count(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> Int32 {
    abiCall {
        let h = try handle(model)
        let out = try require(out, "out_count")
        out.pointee = try h.model.parameterCount()
    }
}

@_cdecl("tm_model_get_parameters")
public func tm_model_get_parameters(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<Float>?, _ count: UInt) -> Int32 {
    abiCall {
        let h = try handle(model)
        let out = try require(out, "out_parameters")
        try h.model.copyParameters(into: out, count: try checkedCount(count, "count"))
    }
}

@_cdecl("tm_model_set_parameters")
public func tm_model_set_parameters(_ model: OpaquePointer?, _ values: UnsafePointer<Float>?, _ count: UInt) -> Int32 {
    abiCall {
        let h = try handle(model)
        let values = try require(values, "parameters")
        try h.model.setParameters(values, count: try checkedCount(count, "count"))
    }
}
