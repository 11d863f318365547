import TextModel

/// `textmodel embed`: each input text's sentence vector (Model.sentenceVectors).
enum EmbedCommand: Command {
    static let name = "embed"
    static let summary = "sentence vectors: one row of floats per input text"
    static let help = """
    usage: textmodel embed MODEL FILE|- [--json] [--format F] [--threads N]

    Prints one line per input text, in input order: its sentence vector (the encoder's
    pooled features, what the output layer reads), as tab-separated floats with 9
    significant digits (enough to read back the same float32).

      FILE               texts, as for predict: plain lines of text or fastText lines
                         (leading __label__ tokens are ignored), CSV (its text column) or
                         JSON Lines (its text field); - reads stdin (as lines)
      --json             one JSON array of numbers per line instead
      --format F         input format: auto (by extension), csv, fasttext, jsonl
      --threads N        threads (0 = every core, the default)

    """
    static let options: [OptionSpec] = [.flag("--json"), .value("--format"), .value("--threads")]
    static let block = 8192

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let args = try arguments.positionals("MODEL", "FILE")
        let json = arguments.flag("--json")
        let model = try CommonOptions.loadModel(args[0], arguments)
        var data = try CommonOptions.dataConfig(of: model, arguments)
        if args[1] == "-" && data.format == .auto { data.format = .fasttext }
        let texts = try UnlabelledTexts.read(path: CommonOptions.path(args[1]), config: data)
        let width = try model.featureDimension()
        var start = 0
        while start < texts.count {
            let batch = Array(texts[start..<min(start + block, texts.count)])
            let vectors = try model.sentenceVectors(batch)
            var out = ""
            for i in 0..<batch.count {
                let row = vectors[(i * width)..<((i + 1) * width)]
                if json {
                    out += JSONValue.array(row.map { .double(PredictionRun.shortest($0)) }).serialized + "\n"
                } else {
                    out += row.map { Output.format("%.9g", Double($0)) }.joined(separator: "\t") + "\n"
                }
            }
            Output.out(out)
            start += batch.count
        }
        return ExitStatus.ok
    }
}
