import TextModel

/// One subcommand: its name, a one-line summary for `textmodel --help`, its full help
/// text (what `textmodel NAME --help` prints), the options it accepts, and `run`.
///
/// Adding a subcommand is one file with a type conforming to `Command` plus its name in
/// `CommandLineTool.commands`; parsing, `--help`, error messages and exit statuses are
/// shared.
protocol Command {
    static var name: String { get }
    static var summary: String { get }
    /// Usage lines and a description of every argument and option.
    static var help: String { get }
    static var options: [OptionSpec] { get }
    /// Runs the command; returns the process's exit status (normally `ExitStatus.ok`).
    /// Throws `UsageError` for a bad command line and `TextModelError` from the engine.
    static func run(_ arguments: ParsedArguments) throws -> Int32
}

/// A registered subcommand: what the dispatcher needs of a `Command` type, captured
/// through a generic function (the registry holds values, not existential metatypes).
struct CommandEntry {
    let name: String
    let summary: String
    let help: String
    let options: [OptionSpec]
    let run: (ParsedArguments) throws -> Int32

    init<C: Command>(_ command: C.Type) {
        name = C.name
        summary = C.summary
        help = C.help
        options = C.options
        run = { try C.run($0) }
    }
}

enum CommandLineTool {
    /// Every subcommand, in the order `textmodel --help` lists them.
    static let commands: [CommandEntry] = [
        CommandEntry(TrainCommand.self),
        CommandEntry(TestCommand.self),
        CommandEntry(PredictCommand.self),
        CommandEntry(PredictProbCommand.self),
        CommandEntry(EmbedCommand.self),
        CommandEntry(ExplainCommand.self),
        CommandEntry(AutotuneCommand.self),
        CommandEntry(ConvertCommand.self),
        CommandEntry(QuantizeCommand.self),
        CommandEntry(PrintConfigCommand.self),
    ]

    static var overview: String {
        var text = """
        usage: textmodel COMMAND [ARGS...]
               textmodel COMMAND --help
               textmodel --version

        Trains, evaluates and runs libtextmodel text models (libtextmodel \(LibraryVersion.string)).

        commands:

        """
        for command in commands {
            text += "  " + command.name.padding(to: 14) + command.summary + "\n"
        }
        text += "\n" + ExitStatus.table
        return text
    }

    static func run(_ arguments: [String]) -> Int32 {
        guard let first = arguments.first else {
            Output.error(overview)
            return ExitStatus.usage
        }
        if first == "--help" || first == "-h" || first == "help" {
            Output.out(overview)
            return ExitStatus.ok
        }
        if first == "--version" {
            Output.out("textmodel \(LibraryVersion.string)\n")
            return ExitStatus.ok
        }
        guard let command = commands.first(where: { $0.name == first }) else {
            Output.error("textmodel: unknown command \"\(first)\" (commands: \(commands.map(\.name).joined(separator: ", ")); see textmodel --help)\n")
            return ExitStatus.usage
        }
        let rest = Array(arguments.dropFirst())
        if rest.contains("--help") || rest.contains("-h") {
            Output.out(command.help + "\n" + ExitStatus.table)
            return ExitStatus.ok
        }
        do {
            let parsed = try ParsedArguments(rest, options: command.options)
            return try command.run(parsed)
        } catch let error as UsageError {
            Output.error("textmodel \(command.name): \(error.message)\n(see textmodel \(command.name) --help)\n")
            return ExitStatus.usage
        } catch let error as TextModelError {
            Output.error("textmodel \(command.name): \(ExitStatus.statusName(error.kind)): \(error.message)\n")
            return ExitStatus.of(error.kind)
        } catch {
            Output.error("textmodel \(command.name): \(error)\n")
            return ExitStatus.internalError
        }
    }
}

extension String {
    /// The string padded with spaces to `width` characters (never cut).
    func padding(to width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
