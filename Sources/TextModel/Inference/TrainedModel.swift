/// Everything a trained model needs to predict: feature encoder (tokenizer, vocabulary,
/// n-gram hashing), labels (none for regression), the regression target scaling,
/// network and weights. Immutable once built (its workspace pool locks itself), so any
/// number of threads may predict from one instance at the same time; each call brings
/// its own workspaces.
final class TrainedModel {
    let config: Config
    let encoder: FeatureEncoder
    let labels: [String]
    let labelIDs: [String: Int32]
    let scaling: TargetScaling
    let network: Network
    let parameters: FloatBuffer
    /// How the weights were stored in the file this model came from (f32 for a model
    /// trained here); an int8 model predicts with `quantized` (its f32 `parameters` are
    /// those weights dequantized, for explanations and saving as f32 or f16).
    let precision: WeightPrecision
    let quantized: QuantizedWeights?
    private let workspaces: WorkspacePool
    /// Slots of one-text predictions (SingleTextPrediction).
    let single: SingleTextPrediction
    /// One-thread batch calls' working memory, kept between calls like the workspaces.
    private let oneThreadBatches: ReusePool<OneThreadBatch>
    /// The first recurrent layer's input projections per word, built when they pay.
    private let inputTables: InputTableCache
    /// What DP-SGD training spent (training.privacy), kept in the model file; nil otherwise.
    var privacy: PrivacyRecord? = nil

    var vocabulary: Vocabulary { encoder.vocabulary }
    /// Whether predictions now use an InputProjectionTable (tests).
    var hasInputTable: Bool { inputTables.isBuilt }
    var task: Config.Task { config.model.task }
    /// Outputs per text: one per label, or 1 for regression.
    var width: Int { network.classes }

    /// `network` is the one NetworkBuilder made for this config, vocabulary and labels,
    /// `parameters` its weights. `inputTable` says when predictions may use an
    /// InputProjectionTable (tests choose; the default builds one when it pays).
    init(config: Config, vocabulary: Vocabulary, labels: [String], scaling: TargetScaling = .identity,
         network: Network, parameters: FloatBuffer, inputTable: InputTablePolicy = .automatic,
         precision: WeightPrecision = .f32, quantized: QuantizedWeights? = nil) {
        self.config = config
        inputTables = InputTableCache(policy: inputTable)
        self.scaling = scaling
        encoder = FeatureEncoder(config: config.tokenizer, vocabulary: vocabulary)
        self.labels = labels
        var ids = [String: Int32]()
        for (i, l) in labels.enumerated() { ids[l] = Int32(i) }
        labelIDs = ids
        self.network = network
        workspaces = WorkspacePool(network: network)
        single = SingleTextPrediction(network: network)
        oneThreadBatches = ReusePool { OneThreadBatch(network: network) }
        self.parameters = parameters
        self.precision = precision
        self.quantized = quantized
    }

    func encode(_ text: String) -> [Int32] { encoder.encode(text) }

    /// The model's outputs for already encoded texts, row-major [N × width], into `out`:
    /// class probabilities, per-label probabilities (multi-label) or predicted values
    /// (regression, in the training targets' units). See BatchInference; `inputTable`
    /// must hold this model's weights (see InputTableCache).
    func outputs(of encoded: EncodedTexts, into out: UnsafeMutablePointer<Float>, workspaces: [Workspace],
                 inputTable: InputProjectionTable? = nil) throws {
        try BatchInference(network: network, parameters: parameters.pointer, scaling: scaling, quantized: quantized)
            .outputs(of: encoded, into: out, workspaces: workspaces, inputTable: inputTable)
    }

    func outputs(of encoded: [[Int32]], into out: UnsafeMutablePointer<Float>, workspaces: [Workspace]) throws {
        try outputs(of: EncodedTexts(encoded), into: out, workspaces: workspaces)
    }

    /// Outputs of raw texts [N × width], tokenised, encoded and run on up to `threads`
    /// threads (0 = every core); the result is the same for any thread count. Fewer
    /// threads run if their activations would not fit training.max_memory_mb, and none
    /// (TM_ERR_RESOURCE) if one does not (see BatchInference.workers).
    func outputs(of texts: [String], into out: UnsafeMutablePointer<Float>, threads: Int = 1) throws {
        try outputs(of: .strings(texts), into: out, threads: threads)
    }

    /// `outputs(of:into:threads:)` of strings or of UTF-8 texts read in place.
    func outputs(of texts: BatchTexts, into out: UnsafeMutablePointer<Float>, threads: Int = 1) throws {
        try run(texts, threads: threads) { inference, encoded, ws, table, order in
            try inference.outputs(of: encoded, into: out, workspaces: ws, inputTable: table, order: &order)
        }
    }

    /// Sentence vectors of raw texts [N × featureDim] (see BatchInference.features),
    /// on up to `threads` threads as `outputs(of:into:threads:)`.
    func features(of texts: [String], into out: UnsafeMutablePointer<Float>, threads: Int = 1) throws {
        try features(of: .strings(texts), into: out, threads: threads)
    }

    func features(of texts: BatchTexts, into out: UnsafeMutablePointer<Float>, threads: Int = 1) throws {
        try run(texts, threads: threads) { inference, encoded, ws, table, order in
            try inference.features(of: encoded, into: out, workspaces: ws, inputTable: table, order: &order)
        }
    }

    /// Width of a sentence vector: the encoder's feature width F.
    var featureDim: Int { network.encoder.featureDim }

    /// Tokenises, encodes, sizes the workers and lends them pooled workspaces. A call
    /// that runs on one thread anyway (threads 1, or too few texts to share) borrows a
    /// pooled OneThreadBatch instead, whose buffers are reused: once warm it allocates
    /// nothing. Either way the results are the same.
    private func run(_ texts: BatchTexts, threads: Int,
                     _ body: (BatchInference, EncodedTexts, [Workspace], InputProjectionTable?, inout [Int]) throws -> Void) throws {
        let groups = (texts.count + BatchInference.groupSize - 1) / BatchInference.groupSize
        let inference = BatchInference(network: network, parameters: parameters.pointer, scaling: scaling, quantized: quantized)
        let maxMemoryMB = config.training.maxMemoryMB
        if Parallel.workers(threads: threads, items: texts.count, minimumEach: 64) == 1 && (groups <= 1 || Parallel.threads(threads) == 1) {
            return try oneThreadBatches.withOne { batch in
                encoder.encode(texts, into: &batch.encoded, scratch: &batch.scratch)
                _ = try inference.workers(for: batch.encoded, wanted: 1, maxMemoryMB: maxMemoryMB)
                let table = inputTable(tokens: batch.encoded.totalLength, threads: 1)
                try body(inference, batch.encoded, batch.workspaces, table, &batch.order)
            }
        }
        let encoded = encoder.encode(texts, threads: threads)
        let table = inputTables.table(network: network, params: parameters.pointer, tokens: encoded.totalLength, threads: threads)
        let workers = try inference.workers(for: encoded, wanted: max(1, min(Parallel.threads(threads), groups)),
                                            maxMemoryMB: maxMemoryMB)
        var order = [Int]()
        try workspaces.withWorkspaces(workers) { ws in try body(inference, encoded, ws, table, &order) }
    }

    /// The inference table for a call running `tokens` tokens (see InputTableCache).
    func inputTable(tokens: Int, threads: Int) -> InputProjectionTable? {
        inputTables.table(network: network, params: parameters.pointer, tokens: tokens, threads: threads)
    }

    /// Lends `count` pooled workspaces of this model's network to `body` (attributions).
    func withWorkspaces(_ count: Int, _ body: ([Workspace]) throws -> Void) throws {
        try workspaces.withWorkspaces(count, body)
    }
}

/// A one-thread batch call's working memory (TrainedModel.run): the encoded batch, the
/// encoder's scratch, the texts' order and a workspace, grown to the largest batch seen.
final class OneThreadBatch {
    var encoded = EncodedTexts()
    var scratch = FeatureEncoder.Scratch()
    var order: [Int] = []
    let workspaces: [Workspace]

    init(network: Network) { workspaces = [network.makeWorkspace()] }
}
