// The C ABI of libtextmodel: each function converts C arguments, delegates to the
// TextModel engine and converts the result back. No logic lives here. Declarations and
// documentation: include/textmodel.h.
import TextModel
import CTextModelSupport
#if canImport(Glibc)
import Glibc
#endif

public typealias CStringArray = UnsafePointer<UnsafePointer<CChar>?>
public typealias ProgressFunction = @convention(c) (UnsafePointer<tm_progress>?, UnsafeMutableRawPointer?) -> Int32

// MARK: models

@_cdecl("tm_model_new")
public func tm_model_new(_ configJSON: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    abiCall {
        let out = try require(out, "out_model")
        let config = try Config(json: configJSON.map { String(cString: $0) })
        out.pointee = ModelHandle(Model(config: config)).opaque
    }
}

@_cdecl("tm_model_free")
public func tm_model_free(_ model: OpaquePointer?) {
    // From the model's own progress callback the training call below it still uses the
    // model: freeing it there would pull it out from under that call, so it is refused.
    if let h = ModelHandle.from(model), h.model.isTrainingOnCurrentThread {
        tm_support_set_last_error("tm_model_free was called from the progress callback of this model's own training, which still uses the model; the model was not freed: free it after the training call returns")
        return
    }
    ModelHandle.release(model)
}

@_cdecl("tm_model_config_json")
public func tm_model_config_json(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    abiCall {
        let h = try handle(model)
        try output(h.model.trainedConfig.json.serialized, to: try require(out, "out_json"))
    }
}

@_cdecl("tm_model_is_trained")
public func tm_model_is_trained(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<Int32>?) -> Int32 {
    abiCall {
        let h = try handle(model)
        try require(out, "out_trained").pointee = h.model.isTrained ? 1 : 0
    }
}

@_cdecl("tm_model_task")
public func tm_model_task(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> Int32 {
    abiCall {
        let h = try handle(model)
        try require(out, "out_task").pointee = taskName(h.model.task)
    }
}

@_cdecl("tm_model_num_labels")
public func tm_model_num_labels(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> Int32 {
    abiCall {
        let h = try handle(model)
        try require(out, "out_count").pointee = h.model.labels.count
    }
}

@_cdecl("tm_model_label")
public func tm_model_label(_ model: OpaquePointer?, _ index: UInt, _ out: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> Int32 {
    abiCall {
        let h = try handle(model)
        let out = try require(out, "out_label")
        let labels = h.model.labels
        guard index < UInt(labels.count) else {
            throw invalid("label index \(index) is out of range (the model has \(labels.count) labels)")
        }
        guard let p = h.cString(for: labels[Int(index)]) else { throw TextModelError(.resource, "out of memory") }
        out.pointee = p
    }
}

@_cdecl("tm_model_vocab_size")
public func tm_model_vocab_size(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> Int32 {
    abiCall {
        let h = try handle(model)
        try require(out, "out_size").pointee = h.model.vocabularySize
    }
}

// MARK: training

/// Wraps a C progress callback as an engine ProgressHandler.
func progressHandler(_ callback: ProgressFunction?, _ userData: UnsafeMutableRawPointer?) -> ProgressHandler? {
    guard let callback = callback else { return nil }
    return { p in
        var c = tm_progress()
        c.struct_size = MemoryLayout<tm_progress>.size
        switch p.kind {
        case .step: c.kind = TM_PROGRESS_STEP
        case .epoch: c.kind = TM_PROGRESS_EPOCH
        case .loading: c.kind = TM_PROGRESS_LOADING
        }
        c.epoch = Int32(p.epoch)
        c.epochs = Int32(p.epochs)
        c.step = Int64(p.step)
        c.total_steps = Int64(p.totalSteps)
        c.running_loss = p.runningLoss
        c.examples_per_sec = p.examplesPerSecond
        c.eta_seconds = p.etaSeconds
        c.train_loss = p.trainLoss
        c.valid_loss = p.validLoss
        c.valid_accuracy = p.validAccuracy
        c.elapsed_seconds = p.elapsedSeconds
        c.train_accuracy = p.trainAccuracy
        c.epsilon = p.epsilon
        c.bytes_read = Int64(p.bytesRead)
        c.bytes_total = Int64(p.bytesTotal)
        return withUnsafePointer(to: &c) { callback($0, userData) } != 0
    }
}

/// Shared tail of both training entry points: report out, cancellation as a status.
func finishTraining(_ report: TrainingReport, _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) throws {
    if let out = out { try output(report.json.serialized, to: out) }
    if report.cancelledWhileReading {
        throw TextModelError(.cancelled, "training was cancelled by the progress callback while the training file was read, before the first step; the model is left as it was before the call")
    }
    if report.cancelled {
        throw TextModelError(.cancelled, "training was cancelled by the progress callback after \(report.epochs.count) complete epoch(s); the model keeps the weights learned so far")
    }
}

@_cdecl("tm_model_train_files")
public func tm_model_train_files(_ model: OpaquePointer?, _ trainPath: UnsafePointer<CChar>?, _ validPath: UnsafePointer<CChar>?,
                                 _ progress: ProgressFunction?, _ userData: UnsafeMutableRawPointer?,
                                 _ outReport: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    abiCall {
        let h = try handle(model)
        let train = try path(trainPath, "train_path")
        let valid = try validPath.map { try path($0, "valid_path") }
        let report = try h.model.train(file: train, validationFile: valid, progress: progressHandler(progress, userData))
        try finishTraining(report, outReport)
    }
}

@_cdecl("tm_model_train")
public func tm_model_train(_ model: OpaquePointer?, _ texts: CStringArray?, _ labels: CStringArray?, _ count: UInt,
                           _ validTexts: CStringArray?, _ validLabels: CStringArray?, _ validCount: UInt,
                           _ progress: ProgressFunction?, _ userData: UnsafeMutableRawPointer?,
                           _ outReport: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    abiCall {
        let h = try handle(model)
        let (data, validation) = try trainingRows(texts, labels, count, validTexts, validLabels, validCount)
        let report = try h.model.train(data, validation: validation, progress: progressHandler(progress, userData))
        try finishTraining(report, outReport)
    }
}

// MARK: evaluation

@_cdecl("tm_model_evaluate")
public func tm_model_evaluate(_ model: OpaquePointer?, _ texts: CStringArray?, _ labels: CStringArray?, _ count: UInt,
                              _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    abiCall {
        let h = try handle(model)
        let out = try require(out, "out_metrics_json")
        let n = try checkedCount(count, "count")
        guard n > 0 else { throw invalid("count is 0: there is nothing to evaluate") }
        let data = try labelledTexts(texts, labels, n, textsName: "texts", labelsName: "labels")
        try output(h.model.evaluate(data).json.serialized, to: out)
    }
}

@_cdecl("tm_model_evaluate_file")
public func tm_model_evaluate_file(_ model: OpaquePointer?, _ path: UnsafePointer<CChar>?,
                                   _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    abiCall {
        let h = try handle(model)
        let out = try require(out, "out_metrics_json")
        let file = try TextModelC.path(path, "path")
        try output(h.model.evaluate(file: file).json.serialized, to: out)
    }
}

// MARK: inference

@_cdecl("tm_model_predict")
public func tm_model_predict(_ model: OpaquePointer?, _ texts: CStringArray?, _ count: UInt, _ k: UInt,
                             _ outLabels: UnsafeMutablePointer<Int32>?, _ outProbs: UnsafeMutablePointer<Float>?) -> Int32 {
    abiCall {
        let h = try handle(model)
        let n = try checkedCount(count, "count")
        let labels = try require(outLabels, "out_labels")
        guard h.model.isTrained else {
            throw TextModelError(.state, "the model is not trained yet: train it or load a saved model first")
        }
        guard h.model.task.isClassification else {
            throw invalid("tm_model_predict needs a classifier; this is a regression model: use tm_model_predict_values")
        }
        let labelCount = h.model.labels.count
        guard k >= 1, k <= UInt(max(labelCount, 1)) else {
            throw invalid("k must be between 1 and the number of labels (\(labelCount)); got \(k)")
        }
        try h.model.predictTopK(try utf8Texts(texts, n, "texts"), k: Int(k), labels: labels, probabilities: outProbs)
    }
}

@_cdecl("tm_model_predict_proba")
public func tm_model_predict_proba(_ model: OpaquePointer?, _ texts: CStringArray?, _ count: UInt,
                                   _ outProbs: UnsafeMutablePointer<Float>?) -> Int32 {
    abiCall {
        let (h, input, probs) = try predictionArguments(model, texts, count, outProbs, "out_probs")
        try h.model.predictProbabilities(input, into: probs)
    }
}

@_cdecl("tm_model_predict_values")
public func tm_model_predict_values(_ model: OpaquePointer?, _ texts: CStringArray?, _ count: UInt,
                                    _ outValues: UnsafeMutablePointer<Float>?) -> Int32 {
    abiCall {
        let (h, input, values) = try predictionArguments(model, texts, count, outValues, "out_values")
        try h.model.predictValues(input, into: values)
    }
}

/// The checked arguments of a call that writes one array of outputs for `count` texts:
/// the model, the texts (NULL inside the array is an error, see `strings`) and the array.
private func predictionArguments(_ model: OpaquePointer?, _ texts: CStringArray?, _ count: UInt,
                                 _ out: UnsafeMutablePointer<Float>?, _ outName: String) throws
    -> (ModelHandle, UTF8Texts, UnsafeMutablePointer<Float>) {
    let h = try handle(model)
    let n = try checkedCount(count, "count")
    let output = try require(out, outName)
    return (h, try utf8Texts(texts, n, "texts"), output)
}

@_cdecl("tm_model_set_threads")
public func tm_model_set_threads(_ model: OpaquePointer?, _ threads: UInt) -> Int32 {
    abiCall {
        let h = try handle(model)
        guard threads <= UInt(Model.maxThreads) else {
            throw invalid("threads must be between 0 (every core) and \(Model.maxThreads); got \(threads)")
        }
        try h.model.setPredictionThreads(Int(threads))
    }
}

@_cdecl("tm_model_threads")
public func tm_model_threads(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> Int32 {
    abiCall {
        let h = try handle(model)
        try require(out, "out_threads").pointee = h.model.predictionThreads
    }
}

// MARK: files

@_cdecl("tm_model_save")
public func tm_model_save(_ model: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> Int32 {
    abiCall {
        let h = try handle(model)
        try h.model.save(to: try TextModelC.path(path, "path"))
    }
}

@_cdecl("tm_model_load")
public func tm_model_load(_ path: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    abiCall {
        let file = try TextModelC.path(path, "path")
        let out = try require(out, "out_model")
        out.pointee = ModelHandle(try Model.load(from: file)).opaque
    }
}
