import TextModel

/// `textmodel convert`: rewrites a saved model with its weights in another precision.
enum ConvertCommand: Command {
    static let name = "convert"
    static let summary = "rewrite a model with f32, f16 or int8 weights"
    static let help = """
    usage: textmodel convert MODEL --dtype DTYPE -o OUTPUT [--json]

    Loads MODEL and saves it to OUTPUT with its weights stored as DTYPE:

      --dtype DTYPE      f32 (as trained), f16 (half the size) or int8 (about a quarter:
                         every matrix as int8 with one f32 scale per row; an int8 model
                         also predicts with int8 matrix products)
      -o, --output FILE  where the converted model is written (may be MODEL itself)
      --json             print the result as JSON on stdout

    The converted file is a model file like any other: test, predict, embed and explain
    load it as they load MODEL. See docs/compact-models.md.

    """
    static let options: [OptionSpec] = [.value("--dtype"), .value("-o", "--output"), .flag("--json")]

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let input = try arguments.positionals("MODEL")[0]
        guard let output = arguments.value("--output") else { throw UsageError("missing -o OUTPUT (where to save the model)") }
        guard let dtype = arguments.value("--dtype") else { throw UsageError("missing --dtype f32|f16|int8") }
        guard let precision = WeightPrecision(name: dtype) else {
            throw UsageError("--dtype \(dtype) is not one of f32, f16, int8")
        }
        let model = try Model.load(from: input)
        let from = try model.weightPrecision()
        let before = try model.serializedSize(precision: from)
        try model.save(to: output, precision: precision)
        let after = try model.serializedSize(precision: precision)
        if arguments.flag("--json") {
            let result = JSONValue.object([
                ("input", .string(input)), ("input_dtype", .string(from.name)), ("input_bytes", .int(Int64(before))),
                ("output", .string(output)), ("output_dtype", .string(precision.name)), ("output_bytes", .int(Int64(after))),
            ])
            Output.out(Output.prettyJSON(result) + "\n")
        } else {
            Output.out("converted \(input) (\(from.name), \(before) bytes) to \(output) (\(precision.name), \(after) bytes)\n")
        }
        return ExitStatus.ok
    }
}
