import TextModel

/// `textmodel predict`: the predicted labels (or values) of each input text.
enum PredictCommand: Command {
    static let name = "predict"
    static let summary = "predict the labels (or values) of texts, one line per input"
    static let help = """
    usage: textmodel predict MODEL FILE|- [-k K] [--json] [--format F] [--threads N]

    Prints one line per input text, in input order.

      FILE               texts to predict: plain lines of text or fastText lines (leading
                         __label__ tokens are ignored), CSV (its text column) or JSON Lines
                         (its text field); - reads stdin (as lines, unless --format says)
      -k K               the K most probable labels (default 1; a multi-label model
                         without -k prints every label at or above its model.threshold)
      --json             one JSON object per line: {"labels": [...], "probabilities": [...]}
                         ({"value": x} for a regression model)
      --format F         input format: auto (by extension), csv, fasttext, jsonl
      --threads N        prediction threads (0 = every core, the default)

    Output, fastText's way: __label__NAME per predicted label, separated by spaces; a
    regression model prints its number.

    """
    static let options = PredictionRun.options

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        try PredictionRun(arguments, withProbabilities: false).run()
    }
}

/// `textmodel predict-prob`: the predicted labels with their probabilities.
enum PredictProbCommand: Command {
    static let name = "predict-prob"
    static let summary = "predict labels with their probabilities (__label__x 0.93 ...)"
    static let help = """
    usage: textmodel predict-prob MODEL FILE|- [-k K] [--json] [--format F] [--threads N]

    As predict, with each label's probability after it: __label__NAME PROB ... (most
    probable first). Options as for predict; a regression model has no probabilities
    (exit status 8: use predict).

    """
    static let options = PredictionRun.options

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        try PredictionRun(arguments, withProbabilities: true).run()
    }
}

/// What predict and predict-prob share: read the texts, predict them in blocks (so a
/// large input streams out with bounded memory), write each block's lines.
struct PredictionRun {
    static let options: [OptionSpec] = [.value("-k"), .flag("--json"), .value("--format"), .value("--threads")]
    static let block = 8192

    let model: Model
    let texts: [String]
    let k: Int?
    let json: Bool
    let withProbabilities: Bool

    init(_ arguments: ParsedArguments, withProbabilities: Bool) throws {
        let args = try arguments.positionals("MODEL", "FILE")
        k = try arguments.positiveInt("-k", default: nil)
        json = arguments.flag("--json")
        self.withProbabilities = withProbabilities
        model = try CommonOptions.loadModel(args[0], arguments)
        var data = try CommonOptions.dataConfig(of: model, arguments)
        if args[1] == "-" && data.format == .auto { data.format = .fasttext }
        texts = try UnlabelledTexts.read(path: CommonOptions.path(args[1]), config: data)
    }

    func run() throws -> Int32 {
        if model.task == .regression {
            if withProbabilities {
                throw TextModelError(.invalidArgument, "a regression model predicts numbers, not probabilities: use textmodel predict")
            }
            if k != nil { throw UsageError("-k applies to classifiers; this is a regression model") }
        }
        var start = 0
        while start < texts.count {
            let batch = Array(texts[start..<min(start + PredictionRun.block, texts.count)])
            Output.out(try lines(of: batch))
            start += batch.count
        }
        return ExitStatus.ok
    }

    /// A Float as the Double of its shortest decimal form (0.2782182, not 0.27821820974...).
    static func shortest(_ value: Float) -> Double { Double("\(value)") ?? Double(value) }

    private func lines(of batch: [String]) throws -> String {
        var out = ""
        if model.task == .regression {
            for value in try model.predictValues(batch) {
                out += json ? JSONValue.object([("value", .double(Self.shortest(value)))]).serialized + "\n" : Output.format("%g\n", Double(value))
            }
            return out
        }
        let labels = model.labels, c = labels.count
        let probabilities = try model.predictProbabilities(batch)
        for i in 0..<batch.count {
            let row = probabilities[(i * c)..<((i + 1) * c)].map { $0 }
            var order = Array(0..<c)
            order.sort { row[$0] != row[$1] ? row[$0] > row[$1] : $0 < $1 }
            let chosen: [Int]
            if let k = k {
                guard k <= c else { throw TextModelError(.invalidArgument, "k must be between 1 and the number of labels (\(c)); got \(k)") }
                chosen = Array(order.prefix(k))
            } else if model.task == .multiLabel {
                let threshold = model.config.model.threshold
                chosen = order.filter { Double(row[$0]) >= threshold }
            } else {
                chosen = [order[0]]
            }
            if json {
                out += JSONValue.object([
                    ("labels", .array(chosen.map { .string(labels[$0]) })),
                    ("probabilities", .array(chosen.map { .double(Self.shortest(row[$0])) })),
                ]).serialized + "\n"
            } else {
                out += chosen.map { withProbabilities ? "__label__\(labels[$0]) " + Output.format("%g", Double(row[$0])) : "__label__\(labels[$0])" }
                    .joined(separator: " ") + "\n"
            }
        }
        return out
    }
}
