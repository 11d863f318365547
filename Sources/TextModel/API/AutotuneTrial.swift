/// One row of an autotune search's table: the config a trial trained (everything it set,
/// seed and threads included, so `Config(value: config)` retrains it), what came of it,
/// its validation metric, time and model-file size.
public struct AutotuneTrial {
    public enum Status: String {
        /// Trained and measured; eligible as the result.
        case ok
        /// Not trained: no config the size limit allows could be made of the draw.
        case skipped
        /// Trained, but its model file came out larger than max_model_mb: discarded.
        case overSize = "over_size"
        /// The config was refused or training failed (the message says why).
        case failed
        /// The time budget ran out while it trained: discarded unfinished.
        case cut
    }

    public var index: Int
    public var status: Status
    public var modelType: Config.ModelType
    public var config: JSONValue
    public var metric: Double? = nil
    public var seconds = 0.0
    /// The trained model file's bytes, exactly (ModelFile's encoding, not a guess).
    public var size: Int? = nil
    /// The size predicted from the config and the data before training.
    public var estimatedSize: Int? = nil
    /// Epochs trained (fewer than configured after early stopping or a cut).
    public var epochs: Int? = nil
    /// Why a trial was skipped, failed or shrunk to fit the size limit.
    public var message: String? = nil

    public var json: JSONValue {
        .object([
            ("trial", .int(Int64(index))),
            ("status", .string(status.rawValue)),
            ("model_type", .string(modelType.rawValue)),
            ("metric", metric.map { .double($0) } ?? .null),
            ("seconds", .double(seconds)),
            ("size", size.map { .int(Int64($0)) } ?? .null),
            ("estimated_size", estimatedSize.map { .int(Int64($0)) } ?? .null),
            ("epochs", epochs.map { .int(Int64($0)) } ?? .null),
            ("config", config),
            ("message", message.map { .string($0) } ?? .null),
        ])
    }
}

/// What an autotune search returns: the best trial's trained model (not retrained: the
/// very weights that scored best) and the whole table.
public final class AutotuneResult {
    public let model: Model
    public let trials: [AutotuneTrial]
    public let bestTrial: Int
    public let options: AutotuneOptions
    /// "max_trials", "time_budget", "callback" or "no_trainable_config" (50 trials in
    /// a row trained nothing).
    public let stoppedBy: String
    public let seconds: Double

    init(model: Model, trials: [AutotuneTrial], bestTrial: Int, options: AutotuneOptions, stoppedBy: String, seconds: Double) {
        self.model = model
        self.trials = trials
        self.bestTrial = bestTrial
        self.options = options
        self.stoppedBy = stoppedBy
        self.seconds = seconds
    }

    public var best: AutotuneTrial { trials[bestTrial] }

    /// The table as JSON: the options, which trial won and why the search stopped, and
    /// one object per trial in the order they ran.
    public var json: JSONValue {
        .object([
            ("metric", .string(options.metric.name)),
            ("greater_is_better", .bool(options.metric.greaterIsBetter)),
            ("best_trial", .int(Int64(bestTrial))),
            ("best_metric", best.metric.map { .double($0) } ?? .null),
            ("stopped_by", .string(stoppedBy)),
            ("seconds", .double(seconds)),
            ("options", options.json),
            ("trials", .array(trials.map(\.json))),
        ])
    }
}
