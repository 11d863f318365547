import TextModel

/// `textmodel explain`: token attributions of each input text (see Model.explain), as a
/// readable line or one JSON object per text with byte offsets into the text.
enum ExplainCommand: Command {
    static let name = "explain"
    static let summary = "token attributions: why the model gave each text its output"
    static let help = """
    usage: textmodel explain MODEL FILE|- [--method ig|occlusion] [--target LABEL]
                             [--steps N] [--window W] [--output probability|logit]
                             [--reference padding|unknown] [--json] [--format F]
                             [--threads N]

    Prints one line per input text, in input order: every token the model read with its
    score, in text order (token:+0.1234), then the explained label, its output and, for
    integrated gradients, the reference output and the completeness gap delta =
    sum(scores) - (output - reference output).

      FILE               texts, as for predict: plain lines of text or fastText lines
                         (leading __label__ tokens are ignored), CSV (its text column) or
                         JSON Lines (its text field); - reads stdin (as lines)
      --method M         ig: integrated gradients with respect to the input embeddings
                         (the default); occlusion: each window of W tokens replaced by
                         the reference, score = the drop of the output
      --target LABEL     the label to explain (default: each text's predicted label;
                         multi-label: its most probable label); a regression model
                         explains its predicted value
      --steps N          integrated gradients' quadrature points (default 50, at most 4096)
      --window W         occlusion window in tokens (default 1)
      --output O         probability (default) or logit of the target; a regression
                         model explains its value
      --reference R      padding (zero embeddings, the default) or unknown (the <unk>
                         embedding) as the baseline / replacement
      --json             one JSON object per line: {"target": LABEL or null (regression),
                         "output": x, "reference_output": x or null (occlusion),
                         "delta": x or null (occlusion), "tokens": [{"token": "...",
                         "start": S, "end": E, "score": x}, ...]}; start and end are byte
                         offsets into the text (for a line: after its __label__ tokens),
                         so bytes[start:end] is the token as written
      --format F         input format: auto (by extension), csv, fasttext, jsonl
      --threads N        threads (0 = every core, the default)

    For the bag model, the scores of hashed word and character n-grams are folded onto
    the words they came from.

    """
    static let options: [OptionSpec] = [
        .value("--method"), .value("--target"), .value("--steps"), .value("--window"), .value("--output"),
        .value("--reference"), .flag("--json"), .value("--format"), .value("--threads"),
    ]
    /// Texts explained per engine call: output streams out and memory stays bounded.
    static let block = 256

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let args = try arguments.positionals("MODEL", "FILE")
        var options = try attributionOptions(arguments)
        let json = arguments.flag("--json")
        let model = try CommonOptions.loadModel(args[0], arguments)
        options.target = try targetIndex(arguments.value("--target"), of: model)
        var data = try CommonOptions.dataConfig(of: model, arguments)
        if args[1] == "-" && data.format == .auto { data.format = .fasttext }
        let texts = try UnlabelledTexts.readUTF8(path: CommonOptions.path(args[1]), config: data)
        let regression = model.task == .regression
        var start = 0
        while start < texts.count {
            let batch = Array(texts[start..<min(start + block, texts.count)])
            var out = ""
            for attribution in try model.explain(utf8: batch, options: options) {
                let label = regression ? nil : model.labels[attribution.target]
                out += (json ? jsonLine(attribution, label: label) : textLine(attribution, label: label)) + "\n"
            }
            Output.out(out)
            start += batch.count
        }
        return ExitStatus.ok
    }

    /// --method, --steps, --window, --output and --reference, checked (the engine checks
    /// the ranges of steps and window).
    static func attributionOptions(_ arguments: ParsedArguments) throws -> AttributionOptions {
        var options = AttributionOptions()
        switch arguments.value("--method") {
        case nil, "ig"?, "integrated_gradients"?: options.method = .integratedGradients
        case "occlusion"?: options.method = .occlusion
        case let other?: throw UsageError("--method must be ig or occlusion (got \"\(other)\")")
        }
        switch arguments.value("--output") {
        case nil, "probability"?: options.output = .probability
        case "logit"?: options.output = .logit
        case let other?: throw UsageError("--output must be probability or logit (got \"\(other)\")")
        }
        switch arguments.value("--reference") {
        case nil, "padding"?: options.reference = .padding
        case "unknown"?: options.reference = .unknown
        case let other?: throw UsageError("--reference must be padding or unknown (got \"\(other)\")")
        }
        if let steps = try arguments.positiveInt("--steps", default: nil) { options.steps = steps }
        if let window = try arguments.positiveInt("--window", default: nil) { options.window = window }
        return options
    }

    /// The index of `--target LABEL` among the model's labels; nil without --target.
    /// A label the model does not have is an invalid argument naming the labels.
    static func targetIndex(_ label: String?, of model: Model) throws -> Int? {
        guard let label = label else { return nil }
        if model.task == .regression {
            throw UsageError("--target applies to classifiers; a regression model explains its predicted value")
        }
        guard let index = model.labels.firstIndex(of: label) else {
            let shown = model.labels.prefix(20).map { "\"\($0)\"" }.joined(separator: ", ")
            let more = model.labels.count > 20 ? ", ... (\(model.labels.count) labels)" : ""
            throw TextModelError(.invalidArgument, "--target \"\(label)\" is not a label of this model (its labels: \(shown)\(more))")
        }
        return index
    }

    /// A NaN (occlusion's reference output and delta) as JSON null.
    private static func number(_ value: Double) -> JSONValue { value.isNaN ? .null : .double(value) }

    static func jsonLine(_ attribution: TextAttribution, label: String?) -> String {
        let tokens: [JSONValue] = attribution.tokens.map { token in
            .object([
                ("token", .string(token.token)),
                ("start", .int(Int64(token.bytes.lowerBound))),
                ("end", .int(Int64(token.bytes.upperBound))),
                ("score", .double(PredictionRun.shortest(token.score))),
            ])
        }
        return JSONValue.object([
            ("target", label.map { .string($0) } ?? .null),
            ("output", number(attribution.output)),
            ("reference_output", number(attribution.referenceOutput)),
            ("delta", number(attribution.delta)),
            ("tokens", .array(tokens)),
        ]).serialized
    }

    static func textLine(_ attribution: TextAttribution, label: String?) -> String {
        var line = attribution.tokens.map { $0.token + ":" + Output.format("%+.4f", Double($0.score)) }.joined(separator: " ")
        line += line.isEmpty ? "|" : "  |"
        line += label.map { " __label__\($0) output=" } ?? " value="
        line += Output.format("%.4g", attribution.output)
        if !attribution.delta.isNaN {
            line += " reference=" + Output.format("%.4g", attribution.referenceOutput)
            line += " delta=" + Output.format("%+.3g", attribution.delta)
        }
        return line
    }
}
