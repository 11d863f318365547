import TextModel

/// `textmodel train`: trains a model on a labelled file and saves it.
enum TrainCommand: Command {
    static let name = "train"
    static let summary = "train a model on a labelled file and save it"
    static let help = """
    usage: textmodel train TRAIN [--valid FILE] [--config FILE] [--set KEY=VALUE]...
                           [--format F] -o MODEL [--json] [--plot FILE] [--quiet]
                           [--max-seconds S]

    Trains a model on TRAIN and saves it to MODEL.

      TRAIN              labelled training data: CSV (header with label and text columns),
                         fastText lines (__label__X text) or JSON Lines; - reads stdin
      --valid FILE       validation data, evaluated after every epoch (early stopping)
      --config FILE      a JSON config (docs/config.md); without it, the default model
      --set KEY=VALUE    overrides one config key, e.g. --set training.epochs=3; the value
                         is JSON when it parses as JSON, otherwise a string; repeatable
      --format F         data format of the files: auto (by extension), csv, fasttext, jsonl
                         (same as --set data.format=F; stdin is fastText under auto)
      -o, --output MODEL where the trained model is written
      --json             print the training report as JSON on stdout
      --plot FILE        draw the training curves (loss and accuracy per epoch, training
                         and validation): FILE.svg or FILE.png
      --quiet            no progress on stderr
      --max-seconds S    stop training at the first progress report (every
                         training.progress_every steps) at least S seconds after it
                         started (reading TRAIN included) and save the model trained so
                         far; the --json report then says "cancelled": true and has
                         "stopped_by_max_seconds": the seconds and examples trained (this
                         run's, as progress reports count them) at the first and the last
                         step report. For measuring a part of a long run (bench/scaling.py)

    Progress goes to stderr: on a terminal a bar with loss, examples/s and ETA, and one
    line per epoch. Ctrl-C stops training; no model is written (exit status 130).
    --max-seconds stops it too, but saves the model (exit status 0).

    """
    static let options: [OptionSpec] = [
        .value("--valid"), .value("--config"), .repeated("--set"), .value("--format"),
        .value("-o", "--output"), .flag("--json"), .value("--plot"), .flag("--quiet"), .value("--max-seconds"),
    ]

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let train = try arguments.positionals("TRAIN")[0]
        guard let output = arguments.value("--output") else { throw UsageError("missing -o MODEL (where to save the model)") }
        let plot = try CommonOptions.plotPath(arguments)
        let config = try CommonOptions.config(arguments)
        let model = Model(config: config)
        let display = ProgressDisplay(quiet: arguments.flag("--quiet"), maxSeconds: try maxSeconds(arguments))
        let report: TrainingReport
        do {
            report = try model.train(file: CommonOptions.path(train),
                                     validationFile: arguments.value("--valid").map(CommonOptions.path),
                                     progress: display.report)
        } catch {
            display.finish()
            throw error
        }
        display.finish()
        let timedOut = report.cancelled && display.timedOut
        if report.cancelled && !timedOut {
            let when = report.cancelledWhileReading ? "while reading the training data"
                : "after \(report.epochs.count) epoch\(report.epochs.count == 1 ? "" : "s")"
            Output.error("textmodel train: interrupted \(when); no model written\n")
            return ExitStatus.interrupted
        }
        try model.save(to: output)
        if let plot = plot {
            try PlotFile.write(TrainingCurvesPlot(report: report, title: "\(config.model.type.rawValue) on \(CommonOptions.fileName(train))").drawing, to: plot)
        }
        if arguments.flag("--json") {
            var json = report.json
            if timedOut, case .object(var members) = json {
                members.append(("stopped_by_max_seconds", stoppedJSON(display)))
                json = .object(members)
            }
            Output.out(Output.prettyJSON(json) + "\n")
        } else {
            let last = report.epochs.last
            var line = "trained \(config.model.type.rawValue) (\(config.model.task.rawValue)) on \(report.trainExamples) examples"
            line += " (\(report.skippedEmptyText + report.skippedMissingLabel) skipped), \(report.labels.count) labels,"
            line += " vocabulary \(report.vocabularySize), \(report.epochs.count) epochs in \(Output.fixed(report.seconds, 1)) s"
            if let v = last?.validAccuracy { line += "; valid_acc \(Output.fixed(v))" }
            if report.stoppedEarly, let best = report.bestEpoch { line += "; stopped early, best epoch \(best)" }
            if timedOut, let last = display.lastStep {
                line += "; stopped by --max-seconds after \(examplesTrained(last)) examples"
            }
            if let p = report.privacy {
                line += "; DP-SGD ε \(Output.fixed(p.epsilon)) at δ \(p.delta) (σ \(Output.fixed(p.noiseMultiplier)), C \(p.maxGradNorm)\(p.covered ? "" : ", shuffled batches: not covered by the accountant"))"
            }
            Output.out(line + "\nsaved \(output)\n")
        }
        return ExitStatus.ok
    }

    /// --max-seconds: a positive number of seconds, or nil when absent.
    private static func maxSeconds(_ arguments: ParsedArguments) throws -> Double? {
        guard let text = arguments.value("--max-seconds") else { return nil }
        guard let s = Double(text), s.isFinite, s > 0 else {
            throw UsageError("--max-seconds must be a positive number of seconds (got \"\(text)\")")
        }
        return s
    }

    /// Examples this run had trained at a step report: the report's rate is those examples
    /// over its elapsed seconds (EpochLoop.reportStep), so their product gives them back.
    private static func examplesTrained(_ p: TrainingProgress) -> Int {
        let examples = (p.examplesPerSecond * p.elapsedSeconds).rounded()
        return examples.isFinite && examples >= 0 && examples < 1e18 ? Int(examples) : 0
    }

    /// What a run stopped by --max-seconds had trained, at its first and its last step
    /// report: a benchmark's rate over training alone is the difference of the two.
    private static func stoppedJSON(_ display: ProgressDisplay) -> JSONValue {
        func point(_ p: TrainingProgress?) -> JSONValue {
            guard let p = p else { return .null }
            return .object([("seconds", .double(p.elapsedSeconds)), ("examples", .int(Int64(examplesTrained(p)))),
                            ("epoch", .int(Int64(p.epoch))), ("step", .int(Int64(p.step)))])
        }
        return .object([("first_report", point(display.firstStep)), ("last_report", point(display.lastStep))])
    }
}
