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
    let network: TextNetwork
    let parameters: FloatBuffer
    private let workspaces = WorkspacePool()
    /// The first recurrent layer's input projections per word, built when they pay.
    private let inputTables: InputTableCache

    var vocabulary: Vocabulary { encoder.vocabulary }
    /// Whether predictions now use an InputProjectionTable (tests).
    var hasInputTable: Bool { inputTables.isBuilt }
    var task: Config.Task { config.model.task }
    /// Outputs per text: one per label, or 1 for regression.
    var width: Int { network.classes }

    /// Texts per forward pass at inference; any value gives the same results.
    static let inferenceBatch = 256

    /// `inputTable` says when predictions may use an InputProjectionTable: a model whose
    /// weights still change (the trainer's validation) must say `.never`.
    init(config: Config, vocabulary: Vocabulary, labels: [String], scaling: TargetScaling = .identity, parameters: FloatBuffer,
         inputTable: InputTablePolicy = .automatic) throws {
        self.config = config
        inputTables = InputTableCache(policy: inputTable)
        self.scaling = scaling
        encoder = FeatureEncoder(config: config.tokenizer, vocabulary: vocabulary)
        self.labels = labels
        var ids = [String: Int32]()
        for (i, l) in labels.enumerated() { ids[l] = Int32(i) }
        labelIDs = ids
        network = try makeNetwork(config: config, vocabularySize: vocabulary.count,
                              classes: config.model.task == .regression ? 1 : labels.count)
        self.parameters = parameters
    }

    func encode(_ text: String) -> [Int32] { encoder.encode(text) }

    /// The model's outputs for already encoded texts, row-major [N × width], into `out`:
    /// class probabilities, per-label probabilities (multi-label) or predicted values
    /// (regression, in the training targets' units). Texts are processed longest first
    /// in groups of `inferenceBatch`; each workspace's thread takes the next group when it
    /// is free. A group's members do not depend on the number of workspaces, so neither
    /// do the results. `inputTable` must hold this model's weights (see InputTableCache).
    func outputs(of encoded: EncodedTexts, into out: UnsafeMutablePointer<Float>, workspaces: [Workspace],
                 inputTable: InputProjectionTable? = nil) {
        let order = (0..<encoded.count).sorted { a, b in
            encoded.length(a) != encoded.length(b) ? encoded.length(a) > encoded.length(b) : a < b
        }
        let groups = (order.count + TrainedModel.inferenceBatch - 1) / TrainedModel.inferenceBatch
        let c = width
        let unscale = task == .regression && scaling != .identity
        Parallel.forEach(groups, workers: min(workspaces.count, groups)) { g, w in
            let ws = workspaces[w]
            let rows = order[(g * TrainedModel.inferenceBatch)..<min((g + 1) * TrainedModel.inferenceBatch, order.count)]
            ws.batch.pack(rows.lazy.map { encoded[$0] })
            network.forward(parameters.pointer, batch: ws.batch, workspace: ws, inputTable: inputTable)
            for (b, index) in rows.enumerated() {
                (out + index * c).update(from: ws.probs.pointer + b * c, count: c)
                if unscale {
                    for j in 0..<c { out[index * c + j] = scaling.unscale(out[index * c + j]) }
                }
            }
        }
    }

    func outputs(of encoded: [[Int32]], into out: UnsafeMutablePointer<Float>, workspaces: [Workspace]) {
        outputs(of: EncodedTexts(encoded), into: out, workspaces: workspaces)
    }

    /// Outputs of raw texts [N × width], tokenised, encoded and run on up to `threads`
    /// threads (0 = every core); the result is the same for any thread count. Fewer
    /// threads run if their activations would not fit training.max_memory_mb, and none
    /// (TM_ERR_RESOURCE) if one does not (see inferenceWorkers).
    func outputs(of texts: [String], into out: UnsafeMutablePointer<Float>, threads: Int = 1) throws {
        let encoded = encoder.encode(texts, threads: threads)
        let groups = (texts.count + TrainedModel.inferenceBatch - 1) / TrainedModel.inferenceBatch
        let table = inputTables.table(network: network, params: parameters.pointer, tokens: encoded.totalLength, threads: threads)
        let workers = try inferenceWorkers(for: encoded, wanted: max(1, min(Parallel.threads(threads), groups)))
        workspaces.withWorkspaces(workers) { ws in
            outputs(of: encoded, into: out, workspaces: ws, inputTable: table)
        }
    }
}
