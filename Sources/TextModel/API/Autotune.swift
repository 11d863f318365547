/// Searches model types and hyper-parameters for the config that scores best on
/// validation data (docs/autotune.md): random search over `SearchSpace` (trial 0 the
/// default model, later trials also around the best so far; equal scores go to the
/// smaller model), within a time budget and a trial count, optionally under a
/// model-file size limit that no returned model exceeds. What C (`tm_autotune`), the
/// command line and Python call.
///
/// Reproducible: the configs are drawn from `options.seed` and the earlier trials'
/// scores, never the clock, and every trial trains with that seed and an explicit
/// thread count (so its score is fixed too), so a search bounded by `maxTrials` runs
/// the same trials in the same order with the same scores on every run (on the same
/// machine and thread count); a time budget cuts that sequence at a point that depends
/// on the machine. The returned model is the best trial's own weights.
///
/// Thread safety: a search uses only its own models; many may run at once.
public struct Autotune {
    public let options: AutotuneOptions

    /// Receives each trial's row when it ends; returns true to end the search there.
    public typealias TrialHandler = (AutotuneTrial) -> Bool

    /// Trials in a row that train nothing (skipped, refused) before the search gives up.
    static let maxUntrainedInARow = 50
    /// A trial's own time limit is half the time left, but never below this.
    static let minimumTrialSeconds = 1.0
    /// Trials in a row skipped as too long for the time left before the search ends.
    static let maxSkippedForTime = 10
    /// Draws per trial at most while they repeat an earlier trial's config.
    static let redraws = 20

    /// The size estimate's header slack; tests lower it to reach the check of real sizes.
    var estimateSlack = ModelSizeEstimate.headerSlack

    public init(options: AutotuneOptions) {
        self.options = options
    }

    /// Reads labelled files as `options.baseConfig`'s data section says, then searches.
    public func run(trainFile: String, validationFile: String, onTrial: TrialHandler? = nil) throws -> AutotuneResult {
        let config = try baseConfig()
        let multiLabel = options.task == .multiLabel
        let data = try LabelledTexts.read(path: trainFile, config: config.data, multiLabel: multiLabel)
        let validation = try LabelledTexts.read(path: validationFile, config: config.data, multiLabel: multiLabel)
        return try run(data, validation: validation, onTrial: onTrial)
    }

    /// Searches on training texts, ranking trials by `options.metric` on `validation`.
    /// Errors: invalidArgument (no validation rows), data (as training: no usable rows,
    /// one class, unseen validation labels), config (a metric naming a label the data
    /// lacks, a base config that contradicts the search), resource (a size limit no
    /// config can meet), cancelled (stopped before any trial finished).
    public func run(_ data: LabelledTexts, validation: LabelledTexts, onTrial: TrialHandler? = nil) throws -> AutotuneResult {
        let started = Clock.now()
        try options.check()
        guard validation.count > 0 else {
            throw TextModelError.invalidArgument("autotune needs validation data to rank its trials: \(validation.skipped > 0 ? "every validation row was skipped (empty text or missing label)" : "none was given")")
        }
        guard data.count > 0 else {
            throw TextModelError.data("no usable training rows (\(data.skippedEmptyText) with an empty text and \(data.skippedMissingLabel) with a missing label were skipped)")
        }
        let base = try baseConfig()
        let labels = options.task == .regression ? []
            : Targets.labels(of: data.labels, task: options.task, separator: base.data.labelSeparator)
        if case .labelF1(let label) = options.metric, !labels.contains(label) {
            let list = labels.prefix(20).map { "\"\($0)\"" }.joined(separator: ", ")
            throw TextModelError.config("metric \"f1:\(AutotuneOptions.shortened(label))\" names a label the training data does not have (labels: \(list))")
        }
        let estimate = ModelSizeEstimate(texts: data.texts, classes: options.task == .regression ? 1 : max(labels.count, 1),
                                         slack: estimateSlack)
        let limit = options.maxModelMB.map { Int(($0 * 1_000_000).rounded(.down)) }
        if let limit = limit { try checkFloor(estimate, limit: limit) }

        let space = SearchSpace(modelTypes: options.modelTypes, task: options.task)
        var rng = SeededGenerator(seed: options.seed ^ 0xA070_7E5E_ED5E_A5C4)
        let threads = Parallel.threads(options.threads)
        var trials = [AutotuneTrial]()
        var best: (index: Int, metric: Double, model: Model)? = nil
        var firstFailure: TextModelError? = nil
        var stoppedBy = "max_trials"
        var untrainedInARow = 0
        var tried = Set<String>()
        var times = TrialTimeEstimate()
        var skippedForTime = 0
        let deadline = started + options.timeBudgetSeconds

        while true {
            if let cap = options.maxTrials, trials.count >= cap { stoppedBy = "max_trials"; break }
            if Clock.now() >= deadline { stoppedBy = "time_budget"; break }
            // A config tried before (after shrinking to the size limit) is drawn again, a
            // few times at most: it would only score the same.
            var prepared: PreparedTrial = try prepare(index: trials.count, keys: ConfigKeys(), estimate: estimate, limit: limit)
            for _ in 0..<Autotune.redraws {
                var keys = ConfigKeys(space.draw(trial: trials.count, best: best.map { trials[$0.index].config }, rng: &rng))
                keys.set("model", "task", .string(options.task.rawValue))
                keys.set("training", "seed", .int(Int64(options.seed)))
                keys.set("training", "threads", .int(Int64(threads)))
                prepared = try prepare(index: trials.count, keys: keys, estimate: estimate, limit: limit)
                if !tried.contains(prepared.identity) { break }
            }
            tried.insert(prepared.identity)
            // A trial its type's earlier trials say cannot finish in the time left is
            // skipped, not started and cut (see docs/autotune.md, "Reproducibility").
            let tokens = prepared.config.map { estimate.tokenCount($0.tokenizer) } ?? 0
            let left = deadline - Clock.now()
            let allowed = max(left / 2, Autotune.minimumTrialSeconds)
            if let config = prepared.config, let seconds = times.seconds(config, tokens: tokens), seconds > allowed {
                prepared.trial.status = .skipped
                prepared.trial.message = "estimated \(Int(seconds.rounded())) s to train (from this search's earlier \(config.model.type.rawValue) trials), more than half the \(Int(left.rounded())) s left of time_budget"
                prepared.config = nil
                skippedForTime += 1
            } else {
                skippedForTime = 0
            }
            let trialStarted = Clock.now()
            // A trial may take half the time left: a slow first trial of a type (which
            // has no time estimate yet) cannot eat the whole budget.
            let trialDeadline = min(deadline, trialStarted + allowed)
            let outcome = try train(prepared, data: data, validation: validation, limit: limit, deadline: trialDeadline,
                                    anyTrained: best != nil)
            var trial = outcome.trial
            trial.seconds = Clock.now() - trialStarted
            if let config = prepared.config, let epochs = trial.epochs {
                // A cut trial still tells its type's speed: at least one epoch per
                // `seconds` (a lower bound when none completed).
                times.record(config, epochs: max(epochs, trial.status == .cut ? 1 : 0), tokens: tokens, seconds: trial.seconds)
            }
            if trial.status == .cut && Clock.now() < deadline {
                trial.message = "ran past half the time left (\(Int(left.rounded())) s at its start); discarded"
            }
            untrainedInARow = trial.epochs == nil ? untrainedInARow + 1 : 0
            if let model = outcome.model, let metric = trial.metric {
                // Equal scores: the smaller model file wins (the default bag is large).
                if best.map({ options.metric.isBetter(metric, than: $0.metric)
                        || (metric == $0.metric && (trial.size ?? .max) < (trials[$0.index].size ?? .max)) }) ?? true {
                    best = (trial.index, metric, model)
                }
            }
            if trial.status == .failed, firstFailure == nil { firstFailure = outcome.error }
            trials.append(trial)
            let stopAsked = onTrial?(trial) == true
            if stopAsked { stoppedBy = "callback"; break }
            if trial.status == .cut && Clock.now() >= deadline { stoppedBy = "time_budget"; break }
            // Draws that all fail or skip at once (a base config at odds with the space,
            // a tight size limit) would otherwise fill the whole time budget with rows.
            if untrainedInARow >= Autotune.maxUntrainedInARow { stoppedBy = "no_trainable_config"; break }
            if skippedForTime >= Autotune.maxSkippedForTime { stoppedBy = "time_budget"; break }
        }

        guard let winner = best else {
            if stoppedBy == "callback" {
                throw TextModelError(.cancelled, "the autotune search was stopped by its callback before any trial finished")
            }
            if let failure = firstFailure {
                throw TextModelError(failure.kind, "no autotune trial succeeded (\(trials.count) tried); the first failed: \(failure.message)")
            }
            let why = limit != nil && trials.contains { $0.status == .skipped || $0.status == .overSize }
                ? "every trial was skipped or over max_model_mb" : "the time budget ended before a trial finished"
            throw TextModelError.resource("no autotune trial finished (\(trials.count) started): \(why); raise time_budget\(limit != nil ? " or max_model_mb" : "")")
        }
        return AutotuneResult(model: winner.model, trials: trials, bestTrial: winner.index, options: options,
                              stoppedBy: stoppedBy, seconds: Clock.now() - started)
    }

    /// The base config with the search's task (checked when the options were parsed).
    private func baseConfig() throws -> Config {
        var keys = ConfigKeys(options.baseConfig)
        keys.set("model", "task", .string(options.task.rawValue))
        return try Config(value: keys.json)
    }

    /// Refuses a size limit below the smallest model the search could make: a bag of
    /// 1,000 words by 4 dimensions, no n-grams, over these labels.
    private func checkFloor(_ estimate: ModelSizeEstimate, limit: Int) throws {
        var keys = ConfigKeys()
        keys.set("model", "type", .string("bag"))
        keys.set("model", "task", .string(options.task.rawValue))
        keys.set("model", "embedding_dim", .int(4))
        keys.set("tokenizer", "word_ngrams", .int(1))
        keys.set("tokenizer", "char_ngrams_min", .int(0))
        keys.set("tokenizer", "char_ngrams_max", .int(0))
        keys.set("tokenizer", "max_size", .int(1000))
        let floor = estimate.bytes(try Config(value: keys.json))
        if floor > limit {
            throw TextModelError.resource("max_model_mb = \(options.maxModelMB ?? 0) cannot be met: the smallest model this search makes (a bag of 1,000 words × 4 dimensions, no n-grams) takes about \(floor) bytes (\(Double(floor) / 1_000_000) MB) with these labels; raise max_model_mb")
        }
    }

    private struct TrialOutcome {
        var trial: AutotuneTrial
        var model: Model? = nil
        var error: TextModelError? = nil
    }

    /// A trial ready to train: its final config (nil when it was refused or skipped,
    /// with the row saying why).
    private struct PreparedTrial {
        var trial: AutotuneTrial
        var config: Config?
        var error: TextModelError? = nil

        /// What makes two trials the same: the resolved config (a drawn key that equals
        /// its default changes nothing), else the keys as given.
        var identity: String { config?.json.serialized ?? trial.config.serialized }
    }

    /// The drawn keys under the base config, shrunk to the size limit if needed.
    private func prepare(index: Int, keys drawn: ConfigKeys, estimate: ModelSizeEstimate, limit: Int?) throws -> PreparedTrial {
        let keys = reproducible(drawn.overlaid(with: options.baseConfig))
        let typeName = keys.get("model", "type")?.stringValue ?? Config.defaultModelType.rawValue
        var trial = AutotuneTrial(index: index, status: .failed,
                                  modelType: Config.ModelType(rawValue: typeName) ?? Config.defaultModelType, config: keys.json)
        do {
            var config = try Config(value: keys.json)
            trial.estimatedSize = estimate.bytes(config)
            if let limit = limit, let estimated = trial.estimatedSize, estimated > limit {
                guard let fit = try estimate.shrunk(drawn, base: options.baseConfig, limit: limit) else {
                    trial.status = .skipped
                    trial.message = "estimated \(estimated) bytes, over max_model_mb, and no smaller variant fits"
                    return PreparedTrial(trial: trial, config: nil)
                }
                let fitted = reproducible(fit.keys.overlaid(with: options.baseConfig))
                config = try Config(value: fitted.json)
                trial.config = fitted.json
                trial.estimatedSize = estimate.bytes(config)
                trial.message = "shrunk to fit max_model_mb: " + fit.changes.joined(separator: "; ")
            }
            return PreparedTrial(trial: trial, config: config)
        } catch let error as TextModelError {
            trial.message = error.message
            return PreparedTrial(trial: trial, config: nil, error: error)
        }
    }

    /// `keys` with `training.threads` 1 when they train Hogwild (the bag's default) on
    /// more threads and the `config` option names neither key: Hogwild on several
    /// threads depends on their timing, so a seeded search would not repeat, while on
    /// one thread it is plain per-example SGD, deterministic, and still faster than the
    /// data-parallel step, which cannot split a batch of one either.
    private func reproducible(_ keys: ConfigKeys) -> ConfigKeys {
        let base = ConfigKeys(options.baseConfig)
        guard base.get("training", "hogwild") == nil, base.get("training", "threads") == nil,
              let config = try? Config(value: keys.json), config.training.hogwild, config.training.threads != 1
        else { return keys }
        var out = keys
        out.set("training", "threads", .int(1))
        return out
    }

    /// Trains a prepared trial, measures it and checks its real size. Errors in the
    /// caller's data end the search (rethrown) until one trial has trained; every other
    /// failure is the trial's own row.
    private func train(_ prepared: PreparedTrial, data: LabelledTexts, validation: LabelledTexts, limit: Int?,
                       deadline: Double, anyTrained: Bool) throws -> TrialOutcome {
        var trial = prepared.trial
        guard let config = prepared.config else { return TrialOutcome(trial: trial, error: prepared.error) }
        do {
            let model = Model(config: config)
            let report = try model.train(data, validation: validation, progress: { _ in Clock.now() >= deadline })
            trial.epochs = report.epochs.count
            if report.cancelled {
                trial.status = .cut
                trial.message = "the time budget ended during this trial; discarded"
                return TrialOutcome(trial: trial)
            }
            let size = try model.serializedSize()
            trial.size = size
            trial.metric = try options.metric.value(of: model.evaluate(validation))
            if let limit = limit, size > limit {
                trial.status = .overSize
                trial.message = "the model file has \(size) bytes, over max_model_mb (estimated \(trial.estimatedSize ?? 0)); discarded"
                return TrialOutcome(trial: trial)
            }
            guard trial.metric != nil else {
                trial.message = "the validation \(options.metric.name) is not a finite number (training diverged?)"
                return TrialOutcome(trial: trial)
            }
            trial.status = .ok
            return TrialOutcome(trial: trial, model: model)
        } catch let error as TextModelError {
            let callersData: [TextModelError.Kind] = [.data, .io, .invalidArgument, .state]
            if !anyTrained && callersData.contains(error.kind) { throw error }
            trial.status = .failed
            trial.message = error.message
            return TrialOutcome(trial: trial, error: error)
        }
    }
}
