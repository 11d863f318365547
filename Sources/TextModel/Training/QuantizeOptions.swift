/// How a bag model is compressed (`Model.quantized`, `tm_model_quantize`, the CLI's
/// `quantize`; docs/compact-models.md). The names follow fastText's `quantize`.
public struct QuantizeOptions: Equatable {
    /// Keep at most this many embedding rows (words and n-gram buckets together), those
    /// with the largest L2 norm; 0 keeps every row training touched.
    public var cutoff = 0
    /// Width of a product-quantized sub-vector; must divide model.embedding_dim.
    public var dsub = 2
    /// Store each row unit-length plus its norm, quantized on its own (256 levels).
    public var qnorm = false
    /// Retrain the output layer on the compressed input (needs training data).
    public var retrain = false
    /// Epochs and starting learning rate of the retraining (linearly decayed to 0, one
    /// example at a time, as the bag model trains).
    public var epochs = 5
    public var learningRate = 0.1
    /// Drop rows that training never changed (they still hold their seeded initial
    /// values: hash buckets no training text reached), before the cutoff.
    public var pruneUntouched = true
    /// k-means: Lloyd steps at most, and rows sampled at most per codebook (8,192: 32
    /// per centroid; twice that cost 1.25× the compression time for the same accuracy
    /// on the tweets, bench/RESULTS.md).
    public var iterations = 25
    public var sampleRows = 8_192
    public var seed: UInt64 = 1
    /// Threads for k-means, encoding and computing the retraining features (0 = every
    /// core); the result does not depend on it.
    public var threads = 0

    public init() {}

    /// Refuses values that cannot work (before any work is done).
    func validate(embeddingDim e: Int) throws {
        guard cutoff >= 0 else { throw TextModelError.invalidArgument("cutoff must be 0 (keep every row) or positive, not \(cutoff)") }
        guard dsub >= 1, dsub <= e, e % dsub == 0 else {
            throw TextModelError.invalidArgument("dsub must divide the model's embedding_dim (\(e)); \(dsub) does not")
        }
        guard epochs >= 1, epochs <= 1000 else { throw TextModelError.invalidArgument("epochs must be between 1 and 1000, not \(epochs)") }
        guard learningRate.isFinite, learningRate > 0, learningRate <= 100 else {
            throw TextModelError.invalidArgument("learning_rate must be a finite number in (0, 100], not \(learningRate)")
        }
        guard iterations >= 1, iterations <= 1000 else { throw TextModelError.invalidArgument("iterations must be between 1 and 1000, not \(iterations)") }
        guard sampleRows >= ProductQuantizer.maxCentroids else {
            throw TextModelError.invalidArgument("sample_rows must be at least \(ProductQuantizer.maxCentroids), not \(sampleRows)")
        }
        guard threads >= 0, threads <= 1024 else { throw TextModelError.invalidArgument("threads must be between 0 and 1024, not \(threads)") }
    }
}
