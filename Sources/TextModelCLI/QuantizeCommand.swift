import TextModel

/// `textmodel quantize`: compresses a saved bag model as fastText's `quantize` does.
enum QuantizeCommand: Command {
    static let name = "quantize"
    static let summary = "compress a bag model (cutoff, product quantization, retraining)"
    static let help = """
    usage: textmodel quantize MODEL -o OUTPUT [--input TRAIN] [--cutoff N] [--dsub N]
                              [--qnorm] [--retrain] [--epoch N] [--lr X] [--format F]
                              [--threads N] [--json]

    Compresses the bag model MODEL into OUTPUT (model-file format 4; every command
    loads it like any model): keeps the embedding rows training changed, at most N of
    them by largest norm with --cutoff, product-quantizes them, and with --retrain
    retrains the output layer on TRAIN (docs/compact-models.md).

      -o, --output FILE  where the compressed model is written
      --input TRAIN      labelled training data (CSV, fastText lines, JSON Lines; - reads
                         stdin), needed by --retrain
      --cutoff N         keep at most N rows (words and n-gram buckets), largest L2 norm
                         first; 0 (default) keeps every row training changed
      --dsub N           width of a quantized sub-vector (default 2; divides embedding_dim)
      --qnorm            quantize each row's norm apart from its direction
      --retrain          retrain the output layer on the compressed input (needs --input)
      --epoch N          retraining epochs (default 5)
      --lr X             retraining's starting learning rate (default 0.1)
      --format F         data format of TRAIN: auto (by extension), csv, fasttext, jsonl
      --threads N        threads (0 = every core, the default); the result is the same
      --json             print {"bytes", "input_bytes"} of OUTPUT and MODEL as JSON

    """
    static let options: [OptionSpec] = [
        .value("-o", "--output"), .value("--input"), .value("--cutoff"), .value("--dsub"), .flag("--qnorm"),
        .flag("--retrain"), .value("--epoch"), .value("--lr"), .value("--format"), .value("--threads"), .flag("--json"),
    ]

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let modelPath = try arguments.positionals("MODEL")[0]
        guard let output = arguments.value("--output") else { throw UsageError("missing -o OUTPUT (where to save the compressed model)") }
        var options = QuantizeOptions()
        options.cutoff = try integer(arguments, "--cutoff", minimum: 0) ?? options.cutoff
        options.dsub = try integer(arguments, "--dsub", minimum: 1) ?? options.dsub
        options.epochs = try integer(arguments, "--epoch", minimum: 1) ?? options.epochs
        options.threads = try integer(arguments, "--threads", minimum: 0) ?? options.threads
        if let text = arguments.value("--lr") {
            guard let lr = Double(text), lr.isFinite, lr > 0 else { throw UsageError("--lr must be a positive number (got \"\(text)\")") }
            options.learningRate = lr
        }
        options.qnorm = arguments.flag("--qnorm")
        options.retrain = arguments.flag("--retrain")
        if options.retrain && arguments.value("--input") == nil {
            throw UsageError("--retrain needs --input TRAIN (the data to retrain the output layer on)")
        }
        let model = try CommonOptions.loadModel(modelPath, arguments)
        let data = try arguments.value("--input").map { input in
            try LabelledTexts.read(path: CommonOptions.path(input), config: CommonOptions.dataConfig(of: model, arguments),
                                   multiLabel: model.task == .multiLabel)
        }
        let quantized = try model.quantized(options, training: data)
        try quantized.save(to: output)
        let bytes = try quantized.serializedSize(), inputBytes = try model.serializedSize()
        if arguments.flag("--json") {
            Output.out(JSONValue.object([("bytes", .int(Int64(bytes))), ("input_bytes", .int(Int64(inputBytes)))]).serialized + "\n")
        } else {
            Output.out("wrote \(output): \(bytes) bytes (\(modelPath): \(inputBytes) bytes)\n")
        }
        return ExitStatus.ok
    }

    private static func integer(_ arguments: ParsedArguments, _ key: String, minimum: Int) throws -> Int? {
        guard let text = arguments.value(key) else { return nil }
        guard let n = Int(text), n >= minimum else { throw UsageError("\(key) must be an integer of at least \(minimum) (got \"\(text)\")") }
        return n
    }
}
