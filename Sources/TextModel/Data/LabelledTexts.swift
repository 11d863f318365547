/// Texts with one label each, as read from a file or handed in from memory, plus the
/// count of rows dropped on the way (reported to the user after training).
public struct LabelledTexts {
    public var texts: [String] = []
    public var labels: [String] = []
    public var skippedEmptyText = 0
    public var skippedMissingLabel = 0

    public init() {}

    public var count: Int { texts.count }
    public var skipped: Int { skippedEmptyText + skippedMissingLabel }

    /// Adds a row, or counts it as skipped when its text is blank or its label missing.
    public mutating func append(text: String?, label: String?) {
        guard let label = label, !label.isEmpty else { skippedMissingLabel += 1; return }
        guard let text = text, text.contains(where: { !$0.isWhitespace }) else { skippedEmptyText += 1; return }
        texts.append(text)
        labels.append(label)
    }

    /// Reads a labelled file in the format `config.format` names, a chunk at a time
    /// (ChunkedFile), with the same results as `parse` on the whole file's bytes.
    public static func read(path: String, config: Config.Data, multiLabel: Bool = false) throws -> LabelledTexts {
        try read(path: path, config: config, multiLabel: multiLabel, chunkBytes: 8 << 20)
    }

    /// `read` with a chunk size (tests use tiny ones to cut records anywhere) and a limit
    /// on the bytes read (see ChunkedFile).
    static func read(path: String, config: Config.Data, multiLabel: Bool, chunkBytes: Int,
                     limit: Int = FileIO.defaultReadLimit, limitName: String = "the 8192 MB file size limit") throws -> LabelledTexts {
        let separator = multiLabel ? config.labelSeparator : nil
        func feed(_ consume: (UnsafeBufferPointer<UInt8>, Bool, Bool) throws -> Int) throws {
            try ChunkedFile.forEachChunk(path, chunkBytes: chunkBytes, limit: limit, limitName: limitName, consume)
        }
        switch format(of: path, config: config) {
        case .csv:
            var parser = CSVReader.Parser(source: path, textColumn: config.textColumn, labelColumn: config.labelColumn)
            try feed { try parser.consume($0, first: $1, last: $2) }
            return try parser.finish()
        case .jsonl:
            var parser = JSONLReader.Parser(source: path, textField: config.textColumn, labelField: config.labelColumn,
                                            labelSeparator: separator)
            try feed { try parser.consume($0, first: $1, last: $2) }
            return parser.result
        case .fasttext, .auto:   // format(of:) resolves auto
            var parser = FastTextReader.Parser(source: path, labelSeparator: separator)
            try feed { try parser.consume($0, first: $1, last: $2) }
            return parser.result
        }
    }

    /// Parses the bytes of a labelled file; `source` is the name used in messages and,
    /// with format "auto", to choose CSV (a name ending in ".csv") or fastText lines.
    /// For a multi-label model a row's labels end up in one field joined by
    /// config.labelSeparator: CSV fields hold them so already; several `__label__`
    /// tokens on a fastText line and JSON arrays of labels are joined.
    public static func parse(_ bytes: [UInt8], source: String, config: Config.Data, multiLabel: Bool = false) throws -> LabelledTexts {
        let separator = multiLabel ? config.labelSeparator : nil
        switch format(of: source, config: config) {
        case .csv:
            return try CSVReader.read(bytes, source: source, textColumn: config.textColumn, labelColumn: config.labelColumn)
        case .jsonl:
            return try JSONLReader.read(bytes, source: source, textField: config.textColumn, labelField: config.labelColumn,
                                        labelSeparator: separator)
        case .fasttext, .auto:   // format(of:) resolves auto
            return try FastTextReader.read(bytes, source: source, labelSeparator: separator)
        }
    }

    /// Several labels as one field, or an error naming the label that holds the separator.
    static func join(_ labels: [String], separator: String, at location: String) throws -> String {
        if let bad = labels.first(where: { $0.contains(separator) }) {
            throw TextModelError.data("\(location): the label \"\(echo(bad))\" contains data.label_separator \"\(separator)\"; choose another separator")
        }
        return labels.joined(separator: separator)
    }

    /// The configured format, or for "auto" the one the file name suggests: CSV for
    /// ".csv", JSON Lines for ".jsonl" and ".ndjson", fastText lines otherwise.
    static func format(of source: String, config: Config.Data) -> Config.DataFormat {
        guard config.format == .auto else { return config.format }
        let name = source.lowercased()
        if name.hasSuffix(".csv") { return .csv }
        if name.hasSuffix(".jsonl") || name.hasSuffix(".ndjson") { return .jsonl }
        return .fasttext
    }
}
