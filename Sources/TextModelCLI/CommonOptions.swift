import TextModel

/// Options and argument conventions several subcommands share.
enum CommonOptions {
    /// `-` names standard input.
    static func path(_ argument: String) -> String { argument == "-" ? "/dev/stdin" : argument }

    /// The config of `--config FILE` (or the defaults) with every `--set KEY=VALUE`, and
    /// `--format` as data.format, applied by the engine's own override reader.
    static func config(_ arguments: ParsedArguments) throws -> Config {
        var overrides = arguments.all("--set")
        if let format = try format(arguments) { overrides.append("data.format=\(format.rawValue)") }
        if let file = arguments.value("--config") {
            return try Config(contentsOf: file, overrides: overrides)
        }
        return try Config(json: nil, overrides: overrides)
    }

    /// `--format csv|jsonl|fasttext|auto`, checked.
    static func format(_ arguments: ParsedArguments) throws -> Config.DataFormat? {
        guard let text = arguments.value("--format") else { return nil }
        guard let format = Config.DataFormat(rawValue: text) else {
            throw UsageError("--format must be one of \(Config.DataFormat.allCases.map(\.rawValue).joined(separator: ", ")) (got \"\(text)\")")
        }
        return format
    }

    /// A loaded model with `--threads N` applied to its prediction calls.
    static func loadModel(_ path: String, _ arguments: ParsedArguments) throws -> Model {
        let model = try Model.load(from: path)
        if let threads = arguments.value("--threads") {
            guard let n = Int(threads), n >= 0 else { throw UsageError("--threads must be 0 (every core) or a positive integer (got \"\(threads)\")") }
            try model.setPredictionThreads(n)
        }
        return model
    }

    /// The model's data settings, with `--format` if given.
    static func dataConfig(of model: Model, _ arguments: ParsedArguments) throws -> Config.Data {
        var data = model.config.data
        if let format = try format(arguments) { data.format = format }
        return data
    }

    /// `--plot FILE.svg|FILE.png`, checked before any work so a typo fails fast.
    static func plotPath(_ arguments: ParsedArguments) throws -> String? {
        guard let path = arguments.value("--plot") else { return nil }
        let name = path.lowercased()
        guard name.hasSuffix(".svg") || name.hasSuffix(".png") else {
            throw UsageError("--plot writes SVG or PNG, chosen by the file name: it must end in .svg or .png (got \"\(path)\")")
        }
        return path
    }

    /// The last component of a path, for plot titles (a full path would not fit).
    static func fileName(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }
}
