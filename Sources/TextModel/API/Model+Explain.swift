/// Explanations and sentence vectors: what `tm_model_explain`, `tm_model_transform` and
/// `tm_model_feature_dim` wrap, and what a command line's `explain` and `embed` call.
/// Like prediction, these only read the model: any number of threads may call them on
/// one model at once, and each call runs on up to `predictionThreads` threads with
/// results that do not depend on that count.
extension Model {
    /// Token attributions of `texts` for `options.target` (see Explainer,
    /// AttributionOptions): per text, one score per token with the token's byte
    /// offsets into the text's UTF-8 (`text.utf8`), its target, f(x), f(reference) and
    /// the completeness gap. Throws state (untrained) or invalidArgument (options).
    public func explain(_ texts: [String], options: AttributionOptions = AttributionOptions()) throws -> [TextAttribution] {
        try explain(utf8: texts.map { Array($0.utf8) }, options: options)
    }

    /// `explain` of texts given as UTF-8 bytes, valid or not (the C ABI's texts):
    /// invalid sequences read as U+FFFD, as predictions read them, and the offsets are
    /// into the bytes as given.
    public func explain(utf8 texts: [[UInt8]], options: AttributionOptions = AttributionOptions()) throws -> [TextAttribution] {
        let model = try trainedModel()
        guard model.network.quantizedInput == nil else {
            throw TextModelError.invalidArgument("explanations need the model's embedding rows, which a product-quantized model no longer holds: explain the f32 model it came from")
        }
        return try Explainer(model: model, options: options).explain(texts, threads: predictionThreads)
    }

    /// Width of a sentence vector (the encoder's pooled features, what the output layer
    /// reads): embedding_dim for bag and Transformer, the pooled hidden width for the
    /// recurrent models, the total filters for the CNN. Throws state when untrained.
    public func featureDimension() throws -> Int { try trainedModel().featureDim }

    /// Sentence vectors [N × featureDimension()], row-major.
    public func sentenceVectors(_ texts: [String]) throws -> [Float] {
        let model = try trainedModel()
        return try Model.matrix(rows: texts.count, width: model.featureDim, what: "the sentence vectors of \(texts.count) texts") {
            try model.features(of: texts, into: $0, threads: predictionThreads)
        }
    }

    /// Writes sentence vectors [N × featureDimension()] into caller memory.
    public func sentenceVectors(_ texts: [String], into out: UnsafeMutablePointer<Float>) throws {
        try sentenceVectors(.strings(texts), into: out)
    }

    func sentenceVectors(_ texts: BatchTexts, into out: UnsafeMutablePointer<Float>) throws {
        try trainedModel().features(of: texts, into: out, threads: predictionThreads)
    }
}
