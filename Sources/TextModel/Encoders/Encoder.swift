/// One forward or backward pass of a network: its weights, the packed batch and the
/// thread's workspace (activations, training flag, dropout generator).
struct Pass {
    let params: UnsafePointer<Float>
    let batch: PackedBatch
    let workspace: Workspace
    /// An int8 model's matrices at inference (nil: every product in f32); see Pass.linear.
    var quantized: QuantizedWeights? = nil

    var training: Bool { workspace.training }
    /// Packed rows N and texts B of the batch.
    var rows: Int { batch.totalRows }
    var texts: Int { batch.size }
}

/// How an encoder wants the input embedding table drawn before training (the recipe
/// its model was tuned with).
enum EmbeddingInitialization {
    /// U(−bound, bound).
    case uniform(Float)
    /// N(0, σ²), drawn in pairs by Box–Muller.
    case normal(Float)
}

/// How an encoder wants the output layer drawn: zeros, or PyTorch's default
/// U(−1/√fan_in, 1/√fan_in) with fan_in the feature width.
enum OutputInitialization {
    case zeros
    case fanIn
}

/// Maps the embedded tokens of a batch to one feature vector per text, and back.
///
/// Shapes: embedded [N × E] packed rows (PackedBatch layout), features [B × F].
/// An encoder registers its tensors in the network's ParameterLayout and its buffers in
/// the network's ActivationPlan when it is made (between the input stage's tensors and
/// the output layer's), and holds no mutable state: one encoder serves many threads,
/// each with its own Workspace.
protocol Encoder {
    /// E: width of each token's input.
    var inputDim: Int { get }
    /// F: width of each text's feature vector.
    var featureDim: Int { get }
    var embeddingInitialization: EmbeddingInitialization { get }
    var outputInitialization: OutputInitialization { get }

    /// Draws the encoder's own tensors (after the embeddings, before the output layer).
    func initialize(_ params: UnsafeMutablePointer<Float>, rng: inout SeededGenerator)

    /// features = encoder(embedded). While `pass.training`, dropout may change
    /// `embedded` in place (its mask is kept for the backward pass).
    func forward(_ pass: Pass, embedded: UnsafeMutablePointer<Float>, features: UnsafeMutablePointer<Float>)

    /// After `forward` on the same pass (`embedded` is what it read, after its dropout):
    /// writes dEmbedded [N × E] (the gradient with respect to the input embeddings) and,
    /// when `grads` is given, adds the gradients of the encoder's tensors into it (same
    /// layout as the parameters). `dFeatures` may be used as scratch.
    func backward(_ pass: Pass, embedded: UnsafePointer<Float>, dFeatures: UnsafeMutablePointer<Float>,
                  dEmbedded: UnsafeMutablePointer<Float>, grads: UnsafeMutablePointer<Float>?)

    /// Shape of the inference table of the encoder's first projection over a vocabulary
    /// of `vocabulary` embedding rows (see InputProjectionTable); nil for encoders that
    /// have none.
    func inputTableShape(vocabulary: Int) -> InputTableShape?
    /// Writes rows `words` of direction d's table, from embedding rows `embeddings`.
    func fillInputTable(_ params: UnsafePointer<Float>, embeddings: UnsafePointer<Float>, direction: Int,
                        words: Range<Int>, into table: UnsafeMutablePointer<Float>)
    /// `forward` at inference, reading the first projection of each token from `table`
    /// instead of its embedding; false if the encoder cannot (then nothing was written).
    func forward(_ pass: Pass, table: InputProjectionTable, features: UnsafeMutablePointer<Float>) -> Bool

    // Attributions (Explainer): the first layer's input projections, given and differentiated.

    /// `forward` at inference with the first layer's input projections W_ih x + b (the
    /// quantity an inference table holds) written by `fill(direction d, into projected
    /// [N × width])`, in direction d's row order (for the reverse direction row (t, b)
    /// is token L_b − 1 − t); false if the encoder cannot (then `fill` was not called).
    func forward(_ pass: Pass, projections fill: (Int, UnsafeMutablePointer<Float>) -> Void,
                 features: UnsafeMutablePointer<Float>) -> Bool
    /// After that forward: the gradient with respect to those projections, handed to
    /// `read(direction d, dProjected [N × width])` in d's row order, without the input
    /// or parameter gradients; false if the encoder cannot.
    func backward(_ pass: Pass, dFeatures: UnsafeMutablePointer<Float>,
                  projectionGradients read: (Int, UnsafePointer<Float>) -> Void) -> Bool
}

extension Encoder {
    func inputTableShape(vocabulary: Int) -> InputTableShape? { nil }
    func fillInputTable(_ params: UnsafePointer<Float>, embeddings: UnsafePointer<Float>, direction: Int,
                        words: Range<Int>, into table: UnsafeMutablePointer<Float>) {}
    func forward(_ pass: Pass, table: InputProjectionTable, features: UnsafeMutablePointer<Float>) -> Bool { false }
    func forward(_ pass: Pass, projections fill: (Int, UnsafeMutablePointer<Float>) -> Void,
                 features: UnsafeMutablePointer<Float>) -> Bool { false }
    func backward(_ pass: Pass, dFeatures: UnsafeMutablePointer<Float>,
                  projectionGradients read: (Int, UnsafePointer<Float>) -> Void) -> Bool { false }
}
