import TextModel

/// `textmodel test`: evaluates a saved model on a labelled file.
enum TestCommand: Command {
    static let name = "test"
    static let summary = "evaluate a model on a labelled file (metrics, confusion matrix)"
    static let help = """
    usage: textmodel test MODEL FILE [--json] [--format F] [--threads N] [--plot FILE]

    Evaluates MODEL on the labelled FILE (- reads stdin) and prints its metrics: accuracy,
    macro-F1, per-class precision / recall / F1 and the confusion matrix for a
    single-label model; subset accuracy, micro/macro F1 and P@k/R@k for a multi-label
    one; MSE, RMSE, MAE and R² for regression (docs/config.md, "Tasks").

      --json             print the metrics JSON (the C API's tm_model_evaluate_file form)
      --format F         data format: auto (by extension), csv, fasttext, jsonl
      --threads N        prediction threads (0 = every core, the default)
      --plot FILE        draw the confusion matrix (single-label models): FILE.svg or
                         FILE.png

    """
    static let options: [OptionSpec] = [.flag("--json"), .value("--format"), .value("--threads"), .value("--plot")]

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let args = try arguments.positionals("MODEL", "FILE")
        let plot = try CommonOptions.plotPath(arguments)
        let model = try CommonOptions.loadModel(args[0], arguments)
        let data = try LabelledTexts.read(path: CommonOptions.path(args[1]), config: CommonOptions.dataConfig(of: model, arguments),
                                          multiLabel: model.task == .multiLabel)
        let evaluation = try model.evaluate(data)
        if let plot = plot {
            guard case .singleLabel(let metrics) = evaluation else {
                throw TextModelError(.invalidArgument, "--plot draws a confusion matrix, which only a single-label model has (this one is \(model.task.rawValue))")
            }
            try PlotFile.write(ConfusionMatrixPlot(metrics: metrics, title: "\(CommonOptions.fileName(args[0])) on \(CommonOptions.fileName(args[1]))").drawing, to: plot)
        }
        if arguments.flag("--json") {
            Output.out(Output.prettyJSON(evaluation.json) + "\n")
        } else {
            Output.out(MetricsText.render(evaluation.json))
        }
        return ExitStatus.ok
    }
}

/// The metrics JSON as text: its numbers one per line, then the per-class table and the
/// confusion matrix when present. Reading the JSON keeps this in step with the engine.
enum MetricsText {
    static func render(_ metrics: JSONValue) -> String {
        var out = ""
        guard case .object(let members) = metrics else { return metrics.serialized + "\n" }
        for (key, value) in members {
            switch value {
            case .int(let i): out += key.padding(to: 18) + String(i) + "\n"
            case .double(let d): out += key.padding(to: 18) + Output.fixed(d) + "\n"
            case .string(let s): out += key.padding(to: 18) + s + "\n"
            case .object(let at) where key.hasSuffix("_at_k"):
                out += key.padding(to: 18) + at.map { "@\($0.0) \(Output.fixed($0.1.doubleValue))" }.joined(separator: "  ") + "\n"
            default: break
            }
        }
        let labels = metrics["labels"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let width = max(12, min(24, (labels.map(\.count).max() ?? 0) + 2))
        if let perClass = metrics["per_class"], !labels.isEmpty {
            out += "\n" + "label".padding(to: width) + "precision     recall         f1    support\n"
            for label in labels {
                guard let row = perClass[label] else { continue }
                out += label.padding(to: width)
                for key in ["precision", "recall", "f1"] { out += Output.format("%9.4f  ", row[key]?.doubleValue ?? .nan) }
                out += Output.format("%9.0f", row["support"]?.doubleValue ?? .nan) + "\n"
            }
        }
        if let matrix = metrics["confusion_matrix"]?.arrayValue, matrix.count == labels.count {
            out += "\nconfusion matrix (rows = true, columns = predicted):\n" + "".padding(to: width)
            out += labels.map { String($0.prefix(9)).padding(to: 10) }.joined() + "\n"
            for (label, row) in zip(labels, matrix) {
                out += label.padding(to: width)
                out += (row.arrayValue ?? []).map { Output.format("%-10.0f", $0.doubleValue ?? .nan) }.joined() + "\n"
            }
        }
        return out
    }
}
