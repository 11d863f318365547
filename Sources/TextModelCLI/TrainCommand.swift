import TextModel

/// `textmodel train`: trains a model on a labelled file and saves it.
enum TrainCommand: Command {
    static let name = "train"
    static let summary = "train a model on a labelled file and save it"
    static let help = """
    usage: textmodel train TRAIN [--valid FILE] [--config FILE] [--set KEY=VALUE]...
                           [--format F] -o MODEL [--json] [--plot FILE] [--quiet]

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

    Progress goes to stderr: on a terminal a bar with loss, examples/s and ETA, and one
    line per epoch. Ctrl-C stops training; no model is written (exit status 130).

    """
    static let options: [OptionSpec] = [
        .value("--valid"), .value("--config"), .repeated("--set"), .value("--format"),
        .value("-o", "--output"), .flag("--json"), .value("--plot"), .flag("--quiet"),
    ]

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let train = try arguments.positionals("TRAIN")[0]
        guard let output = arguments.value("--output") else { throw UsageError("missing -o MODEL (where to save the model)") }
        let plot = try CommonOptions.plotPath(arguments)
        let config = try CommonOptions.config(arguments)
        let model = Model(config: config)
        let display = ProgressDisplay(quiet: arguments.flag("--quiet"))
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
        if report.cancelled {
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
            Output.out(Output.prettyJSON(report.json) + "\n")
        } else {
            let last = report.epochs.last
            var line = "trained \(config.model.type.rawValue) (\(config.model.task.rawValue)) on \(report.trainExamples) examples"
            line += " (\(report.skippedEmptyText + report.skippedMissingLabel) skipped), \(report.labels.count) labels,"
            line += " vocabulary \(report.vocabularySize), \(report.epochs.count) epochs in \(Output.fixed(report.seconds, 1)) s"
            if let v = last?.validAccuracy { line += "; valid_acc \(Output.fixed(v))" }
            if report.stoppedEarly, let best = report.bestEpoch { line += "; stopped early, best epoch \(best)" }
            if let p = report.privacy {
                line += "; DP-SGD ε \(Output.fixed(p.epsilon)) at δ \(p.delta) (σ \(Output.fixed(p.noiseMultiplier)), C \(p.maxGradNorm)\(p.covered ? "" : ", shuffled batches: not covered by the accountant"))"
            }
            Output.out(line + "\nsaved \(output)\n")
        }
        return ExitStatus.ok
    }
}
