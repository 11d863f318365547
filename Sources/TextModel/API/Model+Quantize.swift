/// Compression of bag models (docs/compact-models.md, "Product quantization").
extension Model {
    /// A new, compressed copy of this trained bag model (BagQuantizer): rows pruned and
    /// cut to `options.cutoff`, product-quantized, and with `options.retrain` its output
    /// layer retrained on `training`. This model is unchanged. The copy predicts, saves
    /// (model-file format 4) and loads like any model; it cannot be quantized again,
    /// explained, or trained further (training a loaded model trains a new one from its
    /// config, as for every model).
    /// Errors: invalidArgument (not a bag model, already quantized, a bad option,
    /// retrain without data), state (untrained), data (a label the model lacks),
    /// resource, diverged (retraining).
    public func quantized(_ options: QuantizeOptions = QuantizeOptions(), training: LabelledTexts? = nil) throws -> Model {
        let model = try trainedModel()
        return Model(model: try BagQuantizer(options: options).quantize(model, training: training))
    }

    /// `quantized` with the training data read from a file as `train(file:)` reads it.
    public func quantized(_ options: QuantizeOptions = QuantizeOptions(), trainingFile: String) throws -> Model {
        let data = try LabelledTexts.read(path: trainingFile, config: config.data, multiLabel: config.model.task == .multiLabel,
                                          chunkBytes: 8 << 20, limit: config.training.maxMemoryMB * 1_048_576,
                                          limitName: "training.max_memory_mb")
        return try quantized(options, training: data)
    }

    /// Whether this model is product-quantized (a format-4 model).
    public var isQuantized: Bool { (try? trainedModel())?.network.quantizedInput != nil }
}
