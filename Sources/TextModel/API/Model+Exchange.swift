/// Training with the weights exchanged with other processes (or threads) while it runs:
/// the lower-level seam under docs/dask.md's model averaging, for callers that bring
/// their own transport (MPI, sockets, a barrier of threads).
extension Model {
    /// Trains like `train`, handing the flat parameter buffer to `exchange` every
    /// `syncEvery` optimizer steps (0: at epoch ends only) and at the end of every
    /// epoch; `exchange` replaces it in place (e.g. by the average over workers). With
    /// Hogwild (the bag model's default) a run is a whole epoch, so the exchange comes
    /// once per epoch (ParameterExchangeStep). `counts` (e.g. merged over every worker's
    /// rows, CorpusCounts) gives the vocabulary and labels, so that every worker's buffer
    /// has the same layout; nil takes them from `data` (one worker, or identical rows).
    /// Workers should share the config (its seed: the same initial weights).
    /// Errors: as `train`, plus `.invalidArgument` (a negative syncEvery, an exchange that
    /// wrote a NaN or infinite value), `.config` (training.privacy; validation_fraction with counts), and whatever
    /// `exchange` throws, which stops training and leaves the model as it was.
    public func train(_ data: LabelledTexts, validation: LabelledTexts? = nil, counts: CorpusCounts? = nil,
                      exchange: any ParameterExchange,
                      syncEvery: Int, progress: ProgressHandler? = nil) throws -> TrainingReport {
        try runTraining {
            var trainer = Trainer(config: config, progress: progress)
            trainer.exchange = ExchangeSchedule(exchange: exchange, syncEvery: syncEvery, counts: counts)
            let outcome = try trainer.train(data, validation: validation)
            return (outcome.model, outcome.report)
        }
    }
}
