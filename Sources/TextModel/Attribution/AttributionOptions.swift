/// How token attributions are computed (see Explainer).
public enum AttributionMethod: Equatable {
    /// Integrated gradients (Sundararajan et al. 2017) with respect to the input
    /// embeddings, from the reference to the text, by Gauss–Legendre quadrature.
    case integratedGradients
    /// Each window of `window` tokens replaced by the reference; score = the drop of
    /// the target's output, averaged over the windows covering the token.
    case occlusion
}

/// Which number of the target is explained. Regression always explains the predicted
/// value, in the training targets' units.
public enum AttributionOutput: Equatable {
    /// The target label's probability (softmax; multi-label: its own sigmoid).
    case probability
    /// The target label's logit (the score before softmax or sigmoid).
    case logit
}

/// What stands in for a token: the IG baseline and the occlusion replacement.
public enum AttributionReference: Equatable {
    /// A zero embedding: texts are packed without padding here, so zeros are what a
    /// padded position would contribute to a mean, and the usual IG baseline.
    case padding
    /// The `<unk>` token's embedding for word features; hashed n-gram features of the
    /// bag model (which have no unknown row) take zeros.
    case unknown
}

/// Options of `Model.explain`; the defaults are what the C and Python defaults are.
public struct AttributionOptions: Equatable {
    public var method: AttributionMethod = .integratedGradients
    /// The label index to explain; nil = each text's predicted label (multi-label: its
    /// most probable label; regression: the value, and only nil or 0 is accepted).
    public var target: Int? = nil
    public var output: AttributionOutput = .probability
    public var reference: AttributionReference = .padding
    /// Integrated gradients: quadrature points (1 … maxSteps).
    public var steps = 50
    /// Occlusion: tokens replaced together (1 … maxWindow); a window longer than a
    /// text covers the whole text.
    public var window = 1

    public static let maxSteps = 4096
    public static let maxWindow = 100_000

    public init() {}

    /// Throws invalidArgument for a value out of range; `classes` is the model's
    /// outputs per text (1 for regression).
    func validate(task: Config.Task, classes: Int) throws {
        guard steps >= 1, steps <= AttributionOptions.maxSteps else {
            throw TextModelError.invalidArgument("steps must be between 1 and \(AttributionOptions.maxSteps); got \(steps)")
        }
        guard window >= 1, window <= AttributionOptions.maxWindow else {
            throw TextModelError.invalidArgument("window must be between 1 and \(AttributionOptions.maxWindow); got \(window)")
        }
        if let target = target {
            if task == .regression {
                guard target == 0 else {
                    throw TextModelError.invalidArgument("a regression model has one output: target must be 0 or the default; got \(target)")
                }
            } else if target < 0 || target >= classes {
                throw TextModelError.invalidArgument("target label index \(target) is out of range (the model has \(classes) labels)")
            }
        }
    }
}

/// One token's attribution.
public struct TokenAttribution: Equatable {
    /// The token as the model read it (valid UTF-8).
    public let token: String
    /// Its byte offsets in the original text (see SpannedToken).
    public let bytes: Range<Int>
    public let score: Float
}

/// The attributions of one text for its target.
public struct TextAttribution {
    /// One entry per token the model read (a text longer than tokenizer.max_length is
    /// explained on its first max_length tokens), in text order.
    public let tokens: [TokenAttribution]
    /// The label index explained (0 for regression).
    public let target: Int
    /// f(x): the target's output (probability, logit or value) for the text.
    public let output: Double
    /// f(reference): the output with every input at the reference (integrated
    /// gradients); NaN for occlusion.
    public let referenceOutput: Double
    /// Completeness gap Σ scores − (f(x) − f(reference)) (integrated gradients); NaN
    /// for occlusion, whose scores need not add up to anything.
    public let delta: Double
}
