import TextModel

/// `textmodel print-config`: the resolved config (every key, defaults filled in).
enum PrintConfigCommand: Command {
    static let name = "print-config"
    static let summary = "print the resolved config of a model, or of --config/--set"
    static let help = """
    usage: textmodel print-config MODEL
           textmodel print-config [--config FILE] [--set KEY=VALUE]...

    Prints a resolved config as JSON: every key with its value, defaults filled in for the
    model type. With MODEL, the config the model was trained with; otherwise the config
    that train would use with the same --config and --set options (the default model
    with neither), after checking it as train does.

    """
    static let options: [OptionSpec] = [.value("--config"), .repeated("--set"), .value("--format")]

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let config: Config
        switch arguments.positionals.count {
        case 0:
            config = try CommonOptions.config(arguments)
        case 1:
            if arguments.value("--config") != nil || !arguments.all("--set").isEmpty {
                throw UsageError("--config and --set describe a config to train; a MODEL's config is what it was trained with")
            }
            config = try Model.load(from: arguments.positionals[0]).config
        default:
            throw UsageError("unexpected argument \"\(arguments.positionals[1])\"")
        }
        Output.out(Output.prettyJSON(config.json) + "\n")
        return ExitStatus.ok
    }
}
