/// Everything a trained model needs to predict: feature encoder (tokenizer, vocabulary,
/// n-gram hashing), labels (none for regression), the regression target scaling,
/// network and weights. Immutable once built, so any number of threads may predict from
/// one instance at the same time; each call brings its own Workspace.
final class TrainedModel {
    let config: Config
    let encoder: FeatureEncoder
    let labels: [String]
    let labelIDs: [String: Int32]
    let scaling: TargetScaling
    let network: TextNetwork
    let parameters: FloatBuffer

    var vocabulary: Vocabulary { encoder.vocabulary }
    var task: Config.Task { config.model.task }
    /// Outputs per text: one per label, or 1 for regression.
    var width: Int { network.classes }

    /// Texts per forward pass at inference; any value gives the same results.
    static let inferenceBatch = 256

    init(config: Config, vocabulary: Vocabulary, labels: [String], scaling: TargetScaling = .identity, parameters: FloatBuffer) {
        self.config = config
        self.scaling = scaling
        encoder = FeatureEncoder(config: config.tokenizer, vocabulary: vocabulary)
        self.labels = labels
        var ids = [String: Int32]()
        for (i, l) in labels.enumerated() { ids[l] = Int32(i) }
        labelIDs = ids
        network = makeNetwork(config: config, vocabularySize: vocabulary.count,
                              classes: config.model.task == .regression ? 1 : labels.count)
        self.parameters = parameters
    }

    func encode(_ text: String) -> [Int32] { encoder.encode(text) }

    /// The model's outputs for already encoded texts, row-major [N × width], into `out`:
    /// class probabilities, per-label probabilities (multi-label) or predicted values
    /// (regression, in the training targets' units). Texts are processed longest first
    /// in fixed-size groups; the workspaces share the groups.
    func outputs(of encoded: [[Int32]], into out: UnsafeMutablePointer<Float>, workspaces: [Workspace]) {
        let order = encoded.indices.sorted { a, b in
            encoded[a].count != encoded[b].count ? encoded[a].count > encoded[b].count : a < b
        }
        let groups = stride(from: 0, to: order.count, by: TrainedModel.inferenceBatch).map {
            $0..<min($0 + TrainedModel.inferenceBatch, order.count)
        }
        let c = width
        let unscale = task == .regression && scaling != .identity
        let workers = max(1, min(workspaces.count, groups.count))
        Parallel.run(workers) { w in
            let ws = workspaces[w]
            var g = w
            while g < groups.count {
                let rows = order[groups[g]]
                ws.batch.pack(rows.map { encoded[$0][...] })
                network.forward(parameters.pointer, batch: ws.batch, workspace: ws)
                for (b, index) in rows.enumerated() {
                    (out + index * c).update(from: ws.probs.pointer + b * c, count: c)
                    if unscale {
                        for j in 0..<c { out[index * c + j] = scaling.unscale(out[index * c + j]) }
                    }
                }
                g += workers
            }
        }
    }

    /// Outputs of raw texts [N × width].
    func outputs(of texts: [String], into out: UnsafeMutablePointer<Float>) {
        outputs(of: texts.map(encode), into: out, workspaces: [Workspace()])
    }
}
