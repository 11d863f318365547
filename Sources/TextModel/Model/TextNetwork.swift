/// What the trainer and predictor need from a network: a parameter layout over one flat
/// buffer, initial weights, and forward/backward passes over a PackedBatch of feature ids
/// that leave the head's outputs in `workspace.probs` [B × C]: class probabilities
/// (softmax or per-label sigmoid) or, for regression, the predicted value (C = 1).
protocol TextNetwork {
    var layout: ParameterLayout { get }
    /// Outputs per text: the number of labels, or 1 for regression.
    var classes: Int { get }
    var head: OutputHead { get }
    /// The table looked up by feature id; gradients touch only the rows of a batch's ids.
    var embeddingTensor: ParameterLayout.Tensor { get }

    func initialize(_ params: UnsafeMutablePointer<Float>, rng: inout SeededGenerator)
    /// Bytes of activations for a batch of `rows` packed ids and `size` texts.
    func workspaceBytes(rows: Int, size: Int) -> Int
    func forward(_ params: UnsafePointer<Float>, batch: PackedBatch, workspace: Workspace)
    /// `forward` at inference with an InputProjectionTable of the same weights (nil: none).
    func forward(_ params: UnsafePointer<Float>, batch: PackedBatch, workspace: Workspace,
                 inputTable: InputProjectionTable?)
    /// Shape of the network's InputProjectionTable; nil for networks that have none.
    var inputTableShape: InputTableShape? { get }
    /// Writes rows `words` of direction d's table [rows × width] (`table` is its start).
    func fillInputTable(_ params: UnsafePointer<Float>, direction: Int, words: Range<Int>,
                        into table: UnsafeMutablePointer<Float>)
    /// Adds the gradient of the batch's loss (see LossTargets) into `grads`; call after
    /// `forward` on the same batch and workspace.
    func backward(_ params: UnsafePointer<Float>, batch: PackedBatch, loss: LossTargets,
                  workspace: Workspace, grads: UnsafeMutablePointer<Float>)
}

extension TextNetwork {
    /// Networks without an input projection table (bag, CNN): their embeddings feed a
    /// sum or a convolution, not one projection per token.
    var inputTableShape: InputTableShape? { nil }
    func fillInputTable(_ params: UnsafePointer<Float>, direction: Int, words: Range<Int>,
                        into table: UnsafeMutablePointer<Float>) {}
    func forward(_ params: UnsafePointer<Float>, batch: PackedBatch, workspace: Workspace,
                 inputTable: InputProjectionTable?) {
        forward(params, batch: batch, workspace: workspace)
    }

    /// Plain cross-entropy: the gradient of `scale · Σ cross-entropy`.
    func backward(_ params: UnsafePointer<Float>, batch: PackedBatch, targets: UnsafePointer<Int32>,
                  scale: Float, workspace: Workspace, grads: UnsafeMutablePointer<Float>) {
        backward(params, batch: batch, loss: LossTargets(targets: targets, scale: scale), workspace: workspace, grads: grads)
    }
}

/// The network a config describes, for a vocabulary and label count.
func makeNetwork(config: Config, vocabularySize: Int, classes: Int) throws -> TextNetwork {
    switch config.model.type {
    case .bag:
        return BagNetwork(features: vocabularySize + config.tokenizer.hashedFeatures, classes: classes, config: config.model)
    case .cnn:
        return CNNNetwork(vocabSize: vocabularySize, classes: classes, config: config.model)
    case .lstm, .gru, .rnn:   // RecurrentNetwork runs the cell model.type names
        return RecurrentNetwork(vocabSize: vocabularySize, classes: classes, config: config.model)
    case .transformer:   // TRANSFORMER-PENDING: return the transformer network here
        throw TextModelError.config("model.type \"transformer\" is not available yet")
    }
}
