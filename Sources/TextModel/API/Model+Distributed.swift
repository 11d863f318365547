/// What training across processes needs from a model (docs/dask.md), general rather
/// than tied to one cluster engine: counts that build the vocabulary and labels of
/// everyone's rows (CorpusCounts), training one epoch range at a time from a state a
/// driver hands back (TrainingContinuation), and the weights as one flat buffer to
/// average. The flat buffer is the network's ParameterLayout: every tensor back to
/// back in the order the network registers them (the model file lists the same
/// tensors with their offsets).
extension Model {
    /// Trains like `train`, on `data` only, but with the vocabulary and labels of
    /// `counts` (nil: of `data`), from `state` (nil: from the seed) with `parameters`
    /// replacing its weights if given, through epoch `lastEpoch` (1 … training.epochs).
    /// Returns the report of the epochs this call ran and the state after them; the
    /// model then holds the weights after `lastEpoch`. See TrainingContinuation for
    /// what a state carries (optimizer moments, schedule position, shuffles).
    /// Errors: as `train`, plus `.invalidArgument` (lastEpoch out of range, a parameter
    /// count that does not fit), `.modelFormat` (a state that is not one), `.config`
    /// and `.data` (a state of another config or other rows, validation_fraction with
    /// counts).
    public func trainEpochs(_ data: LabelledTexts, validation: LabelledTexts? = nil, counts: CorpusCounts?,
                            state: [UInt8]?, parameters: [Float]?, lastEpoch: Int,
                            progress: ProgressHandler? = nil) throws -> (report: TrainingReport, state: [UInt8]) {
        try runTraining {
            var trainer = Trainer(config: config, progress: progress)
            trainer.continuation = TrainingContinuation(counts: counts, state: state, parameters: parameters, lastEpoch: lastEpoch)
            let outcome = try trainer.train(data, validation: validation)
            return (outcome.model, (outcome.report, outcome.state ?? []))
        }
    }

    /// Number of weights of the trained model (the length of its flat buffer).
    /// Errors: `.state` (untrained).
    public func parameterCount() throws -> Int {
        try trainedModel().network.layout.count
    }

    /// Copies the weights into `out[0 ..< count]`; `count` must be `parameterCount()`.
    /// Errors: `.state` (untrained), `.invalidArgument` (another count).
    public func copyParameters(into out: UnsafeMutablePointer<Float>, count: Int) throws {
        let model = try trainedModel()
        let n = model.network.layout.count
        guard count == n else { throw TextModelError.invalidArgument("count is \(count); this model has \(n) parameters") }
        out.update(from: model.parameters.pointer, count: n)
    }

    /// Replaces the weights by `values[0 ..< count]` (e.g. an average over processes);
    /// vocabulary, labels and config stay. Threads predicting meanwhile keep the old
    /// weights for their call, as during training.
    /// Errors: `.state` (untrained), `.invalidArgument` (another count, or a value that
    /// is NaN or infinite: no such weight reaches a model), `.resource` (no memory).
    public func setParameters(_ values: UnsafePointer<Float>, count: Int) throws {
        try runTraining {
            let model = try trainedModel()
            let n = model.network.layout.count
            guard count == n else { throw TextModelError.invalidArgument("count is \(count); this model has \(n) parameters") }
            if let bad = (0..<n).first(where: { !values[$0].isFinite }) {
                throw TextModelError.invalidArgument("parameter \(bad) is \(values[bad]); every parameter must be finite")
            }
            let buffer = try FloatBuffer.allocate(count: n, what: "the model's weights")
            buffer.pointer.update(from: values, count: n)
            let replaced = TrainedModel(config: model.config, vocabulary: model.vocabulary, labels: model.labels,
                                        scaling: model.scaling, network: model.network, parameters: buffer)
            return (replaced, ())
        }
    }
}
