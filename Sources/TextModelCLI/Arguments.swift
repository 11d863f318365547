/// A command-line mistake: printed with the command's name and a pointer to --help,
/// exit status 2.
struct UsageError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// An option a subcommand accepts: its spellings (`-k`, `--top`), whether it takes a
/// value, and whether it may be given more than once (`--set`).
struct OptionSpec {
    let names: [String]
    let takesValue: Bool
    let repeatable: Bool

    static func flag(_ names: String...) -> OptionSpec { OptionSpec(names: names, takesValue: false, repeatable: false) }
    static func value(_ names: String...) -> OptionSpec { OptionSpec(names: names, takesValue: true, repeatable: false) }
    static func repeated(_ names: String...) -> OptionSpec { OptionSpec(names: names, takesValue: true, repeatable: true) }
    var key: String { names.last ?? "" }
}

/// A subcommand's arguments, split by hand (no Foundation): `--opt VALUE`, `--opt=VALUE`,
/// flags, positionals; `--` ends the options and a lone `-` is a positional (stdin).
/// Options are looked up by their last spelling (`OptionSpec.key`).
struct ParsedArguments {
    private(set) var positionals: [String] = []
    private var values: [String: [String]] = [:]

    init(_ arguments: [String], options: [OptionSpec]) throws {
        var i = 0
        var onlyPositionals = false
        while i < arguments.count {
            let argument = arguments[i]
            i += 1
            if onlyPositionals || argument == "-" || !argument.hasPrefix("-") {
                positionals.append(argument)
                continue
            }
            if argument == "--" { onlyPositionals = true; continue }
            var name = argument
            var inlineValue: String? = nil
            if argument.hasPrefix("--"), let eq = argument.firstIndex(of: "=") {
                name = String(argument[..<eq])
                inlineValue = String(argument[argument.index(after: eq)...])
            }
            guard let spec = options.first(where: { $0.names.contains(name) }) else {
                throw UsageError("unknown option \(name)")
            }
            var value = ""
            if spec.takesValue {
                if let inline = inlineValue {
                    value = inline
                } else {
                    guard i < arguments.count else { throw UsageError("\(name) needs a value") }
                    value = arguments[i]
                    i += 1
                }
            } else if inlineValue != nil {
                throw UsageError("\(name) takes no value")
            }
            if !spec.repeatable && values[spec.key] != nil {
                throw UsageError("\(name) given more than once")
            }
            values[spec.key, default: []].append(value)
        }
    }

    func flag(_ key: String) -> Bool { values[key] != nil }
    func value(_ key: String) -> String? { values[key]?.last }
    func all(_ key: String) -> [String] { values[key] ?? [] }

    /// A positive integer option, or `def` when absent.
    func positiveInt(_ key: String, default def: Int?) throws -> Int? {
        guard let text = value(key) else { return def }
        guard let n = Int(text), n >= 1 else { throw UsageError("\(key) must be a positive integer (got \"\(text)\")") }
        return n
    }

    /// Exactly the positionals named in `names`, or a usage error saying which is missing.
    func positionals(_ names: String...) throws -> [String] {
        if positionals.count < names.count {
            throw UsageError("missing \(names[positionals.count...].joined(separator: " "))")
        }
        if positionals.count > names.count {
            throw UsageError("unexpected argument \"\(positionals[names.count])\"")
        }
        return positionals
    }
}
