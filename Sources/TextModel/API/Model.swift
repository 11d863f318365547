#if canImport(Glibc)
import Glibc
#endif

/// The public face of the engine (what the C ABI's `tm_model` wraps): a text model
/// built from a Config, trained on labelled texts, evaluated, saved, loaded and used for
/// batch prediction, for every model.task: single-label and multi-label classification
/// and regression (whose "label" is a number).
///
/// Thread safety: prediction, evaluation and saving may run on many threads at once.
/// Training runs one at a time per model; while it runs, other threads keep using
/// the previous weights, and the new ones replace them atomically when it finishes.
///
/// Each prediction or evaluation call itself runs on up to `predictionThreads` threads
/// (tokenising, encoding and the forward passes); training uses `training.threads`.
public final class Model {
    /// The config training starts from: the one given (or a loaded model's).
    public let config: Config
    /// The config of the current weights: `config` as training resolved it (buckets
    /// fitted to the data, see BucketSizing), what a saved file stores; `config` until
    /// trained.
    public var trainedConfig: Config { snapshot?.config ?? config }
    /// Unchecked exclusivity here and on stateLock: both are touched only under that
    /// lock, and every prediction reads them (a dynamic check each, per call).
    @exclusivity(unchecked) private var trained: TrainedModel?
    private var threadSetting = 0
    /// Compact bag texts of a file larger than this go to a temporary file while training
    /// (LabelledFile.spillBytes); tests lower it to train small files that way.
    var fileSpillBytes = LabelledFile.defaultSpillBytes
    @exclusivity(unchecked) private var stateLock = pthread_mutex_t()
    private var trainingLock = pthread_mutex_t()
    /// The thread inside `train` (under stateLock), so that a progress callback (which
    /// runs on that thread) calling back into this classifier's train gets an error
    /// instead of waiting forever on trainingLock, which its own caller holds.
    private var trainingThread: pthread_t? = nil

    public init(config: Config) {
        self.config = config
        pthread_mutex_init(&stateLock, nil)
        pthread_mutex_init(&trainingLock, nil)
    }

    init(model: TrainedModel) {
        config = model.config
        trained = model
        pthread_mutex_init(&stateLock, nil)
        pthread_mutex_init(&trainingLock, nil)
    }

    deinit {
        pthread_mutex_destroy(&stateLock)
        pthread_mutex_destroy(&trainingLock)
    }

    /// The current trained model, read under the lock so training can swap it safely.
    private var snapshot: TrainedModel? {
        pthread_mutex_lock(&stateLock)
        defer { pthread_mutex_unlock(&stateLock) }
        return trained
    }

    func trainedModel() throws -> TrainedModel {
        guard let m = snapshot else {
            throw TextModelError.state("the model is not trained yet: train it or load a saved model first")
        }
        return m
    }

    /// Largest accepted thread count, as for training.threads.
    public static let maxThreads = 1024

    /// Threads one prediction or evaluation call may use: 0 (the default) = every core.
    /// Results do not depend on it. A call with few texts uses fewer (a thread gets at
    /// least 64 texts to encode and 256 to run). Callers that already predict from
    /// many threads at once should set 1, so the threads do not outnumber the cores.
    public var predictionThreads: Int {
        pthread_mutex_lock(&stateLock)
        defer { pthread_mutex_unlock(&stateLock) }
        return threadSetting
    }

    /// Sets `predictionThreads`; throws invalidArgument outside 0 … `maxThreads`.
    public func setPredictionThreads(_ threads: Int) throws {
        guard threads >= 0, threads <= Model.maxThreads else {
            throw TextModelError.invalidArgument("threads must be between 0 (every core) and \(Model.maxThreads); got \(threads)")
        }
        pthread_mutex_lock(&stateLock)
        threadSetting = threads
        pthread_mutex_unlock(&stateLock)
    }

    public var isTrained: Bool { snapshot != nil }
    public var task: Config.Task { config.model.task }
    /// The labels, in output order; none for regression.
    public var labels: [String] { snapshot?.labels ?? [] }
    /// The privacy record of a model trained with training.privacy (ε, δ, σ, C, q, steps,
    /// accountant); nil for other models and untrained ones.
    public var privacy: PrivacyRecord? { snapshot?.privacy }
    public var vocabularySize: Int { snapshot?.vocabulary.count ?? 0 }

    // MARK: training

    /// True on the thread running this classifier's training while it runs, i.e. inside
    /// its own progress callback. The C layer refuses tm_model_free there.
    public var isTrainingOnCurrentThread: Bool {
        pthread_mutex_lock(&stateLock)
        defer { pthread_mutex_unlock(&stateLock) }
        return trainingThread.map { pthread_equal($0, pthread_self()) != 0 } ?? false
    }

    private func refuseReentrantTraining() throws {
        if isTrainingOnCurrentThread {
            throw TextModelError.state("training is already running on this model: its progress callback cannot train it again (train another model, or train this one after the call returns)")
        }
    }

    /// Trains from scratch. On error the classifier keeps its previous state. If
    /// `progress` asks to cancel, the weights learned so far are kept and the report
    /// says `cancelled`.
    @discardableResult
    public func train(_ data: LabelledTexts, validation: LabelledTexts? = nil,
                      progress: ProgressHandler? = nil) throws -> TrainingReport {
        try train(owned: data, validation: validation, progress: progress)
    }

    /// `train` taking the data over: the trainer drops the raw texts once they are
    /// encoded, unless the caller still holds them.
    private func train(owned data: consuming LabelledTexts, validation: LabelledTexts?,
                       progress: ProgressHandler?) throws -> TrainingReport {
        try refuseReentrantTraining()
        pthread_mutex_lock(&trainingLock)
        defer { pthread_mutex_unlock(&trainingLock) }
        setTrainingThread(pthread_self())
        defer { setTrainingThread(nil) }
        let outcome = try Trainer(config: config, progress: progress).train(consume data, validation: validation)
        pthread_mutex_lock(&stateLock)
        trained = outcome.model
        pthread_mutex_unlock(&stateLock)
        return outcome.report
    }

    private func setTrainingThread(_ thread: pthread_t?) {
        pthread_mutex_lock(&stateLock)
        trainingThread = thread
        pthread_mutex_unlock(&stateLock)
    }

    /// Runs `body` as this model's training (one at a time, refused from its own
    /// progress callback, as `train`); the model `body` returns replaces the current
    /// one. For training driven from outside (Model+Distributed.swift).
    func runTraining<T>(_ body: () throws -> (TrainedModel, T)) throws -> T {
        try refuseReentrantTraining()
        pthread_mutex_lock(&trainingLock)
        defer { pthread_mutex_unlock(&trainingLock) }
        setTrainingThread(pthread_self())
        defer { setTrainingThread(nil) }
        let (model, result) = try body()
        pthread_mutex_lock(&stateLock)
        trained = model
        pthread_mutex_unlock(&stateLock)
        return result
    }

    /// Trains from labelled files (format from `config.data`). A progress handler hears
    /// of the reading of a regular file too (`.loading` reports); a cancel then returns a
    /// report with `cancelledWhileReading`, the model left as it was.
    @discardableResult
    public func train(file: String, validationFile: String? = nil,
                      progress: ProgressHandler? = nil) throws -> TrainingReport {
        try refuseReentrantTraining()   // before reading files it would not use
        guard LabelledFile.canReadTwice(file) else {
            // A pipe or a device: read once, its texts held until encoded.
            let data = try read(file)
            let validation = try validationFile.map(read)
            // Handed over, not shared: the file's texts are freed once encoded (a million
            // texts are ~200 MB, as much as the encoded set and the weights together).
            return try train(owned: consume data, validation: validation, progress: progress)
        }
        // A regular file is read in passes, a chunk at a time, so that its texts are never
        // all in memory (TrainingSet(config:file:)); the validation file is held, as before.
        let validation: (() throws -> LabelledTexts)? = validationFile.map { path in { try self.read(path) } }
        var source = LabelledFile(path: file, config: config.data, multiLabel: task == .multiLabel,
                                  limit: config.training.maxMemoryMB * 1_048_576, limitName: "training.max_memory_mb")
        source.spillBytes = fileSpillBytes
        do {
            return try runTraining {
                let outcome = try Trainer(config: config, progress: progress).train(file: source, validation: validation)
                return (outcome.model, outcome.report)
            }
        } catch let cancel as ReadingCancelled {
            // Cancelled before the first step: nothing was trained, the model is unchanged.
            var report = TrainingReport()
            report.cancelled = true
            report.cancelledWhileReading = true
            report.seconds = cancel.seconds
            return report
        }
    }

    /// A labelled file, read as config.data says (multi-label fastText lines may carry
    /// several __label__ tokens). training.max_memory_mb bounds the file, so a huge file
    /// or an endless device (/dev/zero) is a TM_ERR_RESOURCE instead of an allocation trap.
    private func read(_ path: String) throws -> LabelledTexts {
        try LabelledTexts.read(path: path, config: config.data, multiLabel: task == .multiLabel, chunkBytes: 8 << 20,
                               limit: config.training.maxMemoryMB * 1_048_576, limitName: "training.max_memory_mb")
    }

    // MARK: prediction

    func classifier(_ what: String) throws -> TrainedModel {
        let model = try trainedModel()
        guard model.task.isClassification else {
            throw TextModelError.invalidArgument("\(what) needs a classifier; this is a regression model: predict its values instead")
        }
        return model
    }

    /// Class probabilities [N × C], row-major, columns in `labels` order (multi-label:
    /// each label's own probability, so a row need not sum to 1).
    public func predictProbabilities(_ texts: [String]) throws -> [Float] {
        let model = try classifier("predicting probabilities")
        return try Model.matrix(rows: texts.count, width: model.width, what: "the probabilities of \(texts.count) texts") {
            try model.outputs(of: texts, into: $0, threads: predictionThreads)
        }
    }

    /// A row-major [rows × width] matrix that `fill` writes, after checking that its
    /// memory can be had (TM_ERR_RESOURCE rather than a trap).
    static func matrix(rows: Int, width: Int, what: String,
                       fill: (UnsafeMutablePointer<Float>) throws -> Void) throws -> [Float] {
        try TrainedModel.probeMemory(rows * width * 4, what: what)
        var out = [Float](repeating: 0, count: rows * width)
        try out.withUnsafeMutableBufferPointer { buffer in
            if let base = buffer.baseAddress { try fill(base) }
        }
        return out
    }

    /// Writes probabilities [N × C] into caller memory.
    public func predictProbabilities(_ texts: [String], into out: UnsafeMutablePointer<Float>) throws {
        try predictProbabilities(.strings(texts), into: out)
    }

    func predictProbabilities(_ texts: BatchTexts, into out: UnsafeMutablePointer<Float>) throws {
        try classifier("predicting probabilities").outputs(of: texts, into: out, threads: predictionThreads)
    }

    /// The predicted labels of each text: the most probable one (single-label), or every
    /// label whose probability reaches model.threshold, in label order (multi-label).
    public func predictLabels(_ texts: [String]) throws -> [[String]] {
        let model = try classifier("predicting labels")
        let c = model.width
        let probs = try FloatBuffer.allocate(count: texts.count * c, what: "the probabilities of \(texts.count) texts")
        try model.outputs(of: texts, into: probs.pointer, threads: predictionThreads)
        return (0..<texts.count).map { i in
            let row = probs.pointer + i * c
            if model.task == .singleLabel { return [model.labels[argmax(row, c)]] }
            return (0..<c).filter { Double(row[$0]) >= model.config.model.threshold }.map { model.labels[$0] }
        }
    }

    /// Regression: the predicted value of each text, in the training targets' units.
    public func predictValues(_ texts: [String]) throws -> [Float] {
        let model = try regressor()
        var out = [Float](repeating: 0, count: texts.count)
        try out.withUnsafeMutableBufferPointer { buffer in
            if let base = buffer.baseAddress { try model.outputs(of: texts, into: base, threads: predictionThreads) }
        }
        return out
    }

    /// Regression: writes the predicted values [N] into caller memory.
    public func predictValues(_ texts: [String], into out: UnsafeMutablePointer<Float>) throws {
        try predictValues(.strings(texts), into: out)
    }

    func predictValues(_ texts: BatchTexts, into out: UnsafeMutablePointer<Float>) throws {
        try regressor().outputs(of: texts, into: out, threads: predictionThreads)
    }

    private func regressor() throws -> TrainedModel {
        let model = try trainedModel()
        guard model.task == .regression else {
            throw TextModelError.invalidArgument("predicting values needs a regression model (model.task \"regression\"); this one is \"\(model.task.rawValue)\": predict labels or probabilities instead")
        }
        return model
    }

    /// The k most probable label indices and their probabilities for each text,
    /// written row-major into `labels` and (if given) `probabilities`, [N × k] each.
    public func predictTopK(_ texts: [String], k: Int, labels out: UnsafeMutablePointer<Int32>,
                            probabilities outProbs: UnsafeMutablePointer<Float>?) throws {
        try predictTopK(.strings(texts), k: k, labels: out, probabilities: outProbs)
    }

    func predictTopK(_ texts: BatchTexts, k: Int, labels out: UnsafeMutablePointer<Int32>,
                     probabilities outProbs: UnsafeMutablePointer<Float>?) throws {
        let model = try classifier("top-k prediction")
        let c = model.labels.count
        guard k >= 1, k <= c else {
            throw TextModelError.invalidArgument("k must be between 1 and the number of labels (\(c)); got \(k)")
        }
        let probs = try FloatBuffer.allocate(count: texts.count * c, what: "the probabilities of \(texts.count) texts")
        try model.outputs(of: texts, into: probs.pointer, threads: predictionThreads)
        var order = [Int](repeating: 0, count: c)
        for i in 0..<texts.count {
            let row = probs.pointer + i * c
            for j in 0..<c { order[j] = j }
            order.heapSort { row[$0] != row[$1] ? row[$0] > row[$1] : $0 < $1 }
            for j in 0..<k {
                out[i * k + j] = Int32(order[j])
                outProbs?[i * k + j] = row[order[j]]
            }
        }
    }

    // MARK: evaluation

    /// Metrics of the model on labelled texts (for regression, the labels are numbers).
    public func evaluate(_ data: LabelledTexts) throws -> Evaluation {
        let model = try trainedModel()
        guard data.count > 0 else {
            throw TextModelError.data("no usable evaluation rows (\(data.skippedEmptyText) with an empty text and \(data.skippedMissingLabel) with a missing label were skipped)")
        }
        let targets = try Targets(task: model.task, labels: data.labels, labelIDs: model.labelIDs, width: model.width,
                                  separator: config.data.labelSeparator, what: "the evaluation data", knownLabels: model.labels)
        let outputs = try FloatBuffer.allocate(count: data.count * model.width, what: "the outputs of \(data.count) evaluation texts")
        try model.outputs(of: data.texts, into: outputs.pointer, threads: predictionThreads)
        return Evaluation(task: model.task, labels: model.labels, loss: model.network.loss, threshold: model.config.model.threshold,
                          outputs: outputs.pointer, targets: targets, skipped: data.skipped)
    }

    public func evaluate(file: String) throws -> Evaluation {
        try evaluate(read(file))
    }

    // MARK: files

    public func save(to path: String) throws {
        try ModelFile.save(trainedModel(), to: path)
    }

    /// Bytes `save` would write: the model file's exact size (autotune's size check).
    public func serializedSize() throws -> Int {
        try ModelFile.encodedSize(of: trainedModel())
    }

    public static func load(from path: String) throws -> Model {
        Model(model: try ModelFile.load(from: path))
    }

    /// Loads a model from the bytes of a model file held in memory.
    public static func load(bytes: [UInt8], source: String = "model bytes") throws -> Model {
        Model(model: try ModelFile.load(bytes: bytes, source: source))
    }
}
