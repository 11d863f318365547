import TextModel

/// `textmodel autotune`: searches model types and hyper-parameters on a validation file
/// (the engine's `Autotune`, as `tm_autotune` and Python's `textmodel.autotune`) and saves
/// the best model.
enum AutotuneCommand: Command {
    static let name = "autotune"
    static let summary = "search model types and hyper-parameters; save the best model"
    static let help = """
    usage: textmodel autotune TRAIN --valid FILE -o MODEL [--metric M] [--budget SECONDS]
                              [--max-trials N] [--max-model-mb MB] [--seed N] [--threads N]
                              [--model-types T,T...] [--options FILE] [--set OPTION=VALUE]...
                              [--json] [--quiet]

    Trains many configs on TRAIN, ranks them on the validation FILE and saves the best
    trial's own model to MODEL (docs/autotune.md: the search space, how budgets cut it).
    Trial 0 is the default model; the others are seeded random draws.

      TRAIN, --valid FILE labelled data as for train (CSV, fastText lines, JSON Lines)
      -o, --output MODEL  where the best model is written
      --metric M          accuracy (default), macro_f1, f1:LABEL, or for regression
                          rmse, mae, mse, r2 (the task follows from the metric)
      --budget SECONDS    time budget (default 300); where it cuts depends on the machine
      --max-trials N      at most N trials (with a generous budget: repeatable runs)
      --max-model-mb MB   largest model file accepted, in MB (1,000,000 bytes); never
                          exceeded by the saved model
      --seed N            seeds the draws and every trial's training.seed (default 1)
      --threads N         training.threads of every trial (0 = every core)
      --model-types LIST  model types to draw from, e.g. bag,cnn (the default) or
                          bag,cnn,lstm,gru,transformer
      --options FILE      autotune options as JSON (the tm_autotune options object; the
                          flags above override its keys)
      --set OPTION=VALUE  sets one option, e.g. --set config.training.epochs=5 (config
                          keys every trial keeps) or --set task=multi_label; repeatable
      --json              print the trials' table as JSON on stdout
      --quiet             no line per trial on stderr

    Prints one line per trial on stderr, then the best trial's summary.

    """
    static let options: [OptionSpec] = [
        .value("--valid"), .value("-o", "--output"), .value("--metric"), .value("--budget"),
        .value("--max-trials"), .value("--max-model-mb"), .value("--seed"), .value("--threads"),
        .value("--model-types"), .value("--options"), .repeated("--set"), .flag("--json"),
        .flag("--quiet"),
    ]

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let train = try arguments.positionals("TRAIN")[0]
        guard let valid = arguments.value("--valid") else { throw UsageError("missing --valid FILE (the data trials are ranked on)") }
        guard let output = arguments.value("--output") else { throw UsageError("missing -o MODEL (where to save the best model)") }
        let options = try searchOptions(arguments)
        let quiet = arguments.flag("--quiet")
        let result = try Autotune(options: options).run(trainFile: CommonOptions.path(train), validationFile: CommonOptions.path(valid)) { trial in
            if !quiet { Output.error(line(of: trial) + "\n") }
            return false
        }
        try result.model.save(to: output)
        if arguments.flag("--json") {
            Output.out(Output.prettyJSON(result.json) + "\n")
        } else {
            let best = result.best
            Output.out("best: trial \(best.index), \(best.modelType.rawValue), \(options.metric.name) \(Output.fixed(best.metric))"
                       + ", \(megabytes(best.size)) (\(result.trials.count) trials in \(Output.fixed(result.seconds, 1)) s, stopped by \(result.stoppedBy))\n"
                       + "saved \(output)\n")
        }
        return ExitStatus.ok
    }

    /// `--options FILE`, then the flags, then every `--set`, in order.
    static func searchOptions(_ arguments: ParsedArguments) throws -> AutotuneOptions {
        var sets: [String] = []
        let flags = [("--metric", "metric", true), ("--budget", "time_budget", false),
                     ("--max-trials", "max_trials", false), ("--max-model-mb", "max_model_mb", false),
                     ("--seed", "seed", false), ("--threads", "threads", false)]
        for (flag, key, isString) in flags {
            guard let value = arguments.value(flag) else { continue }
            // A string option is quoted so that a value which looks like JSON stays a string.
            sets.append(isString ? "\(key)=\(JSONValue.string(value).serialized)" : "\(key)=\(value)")
        }
        if let types = arguments.value("--model-types") {
            let list = types.split(separator: ",").map { JSONValue.string(String($0)) }
            sets.append("model_types=\(JSONValue.array(list).serialized)")
        }
        return try AutotuneOptions(contentsOf: arguments.value("--options"), overrides: sets + arguments.all("--set"))
    }

    static func line(of trial: AutotuneTrial) -> String {
        var text = "trial \(trial.index): \(trial.status.rawValue) \(trial.modelType.rawValue)"
        if let metric = trial.metric { text += " metric \(Output.fixed(metric))" }
        text += " \(Output.fixed(trial.seconds, 1)) s"
        if trial.size != nil { text += " \(megabytes(trial.size))" }
        if let message = trial.message, !message.isEmpty { text += " (\(message))" }
        return text
    }

    static func megabytes(_ bytes: Int?) -> String {
        guard let bytes = bytes else { return "size -" }
        return "\(Output.fixed(Double(bytes) / 1e6, 2)) MB"
    }
}
