/// Texts to predict, read from a file in any of the library's formats, labels or not:
/// what a command-line `predict` reads. Unlike `LabelledTexts` no row is dropped for a
/// missing label, so the i-th text is the file's i-th row and outputs line up with it.
///
/// - CSV (RFC 4180, as `CSVReader`): the `data.text_column` of every record; the label
///   column need not exist. An empty field is an empty text.
/// - JSON Lines: the `data.text_column` field of every non-blank line (missing or null:
///   an empty text); a line that is not a JSON object is an error naming it.
/// - fastText lines, or plain lines of text: every line, blank ones included, with any
///   leading `__label__` tokens removed.
///
/// The format is chosen as for training files (`data.format`; "auto" by the name).
public enum UnlabelledTexts {
    /// `maxMegabytes` bounds the bytes read (a pipe is read until it ends or passes it).
    public static func read(path: String, config: Config.Data, maxMegabytes: Int = 8192) throws -> [String] {
        try collect(path: path, config: config, maxMegabytes: maxMegabytes, fromString: { $0 },
                    fromLine: { String(decoding: $0, as: UTF8.self) })
    }

    /// The texts as `read` finds them, each as its UTF-8 bytes; a plain or fastText line
    /// keeps its bytes as they are in the file (invalid UTF-8 included), so offsets into
    /// a text are offsets into the line after its labels (what `explain` reports).
    public static func readUTF8(path: String, config: Config.Data, maxMegabytes: Int = 8192) throws -> [[UInt8]] {
        try collect(path: path, config: config, maxMegabytes: maxMegabytes, fromString: { Array($0.utf8) },
                    fromLine: { Array($0) })
    }

    /// The reading both share: CSV fields and JSON strings are decoded text (`fromString`),
    /// lines are bytes after their labels (`fromLine`).
    private static func collect<Text>(path: String, config: Config.Data, maxMegabytes: Int,
                                      fromString: (String) -> Text, fromLine: (Lines.Line) -> Text) throws -> [Text] {
        let limit = maxMegabytes * 1_048_576, limitName = "the \(maxMegabytes) MB input limit"
        var texts = [Text]()
        func feed(_ consume: (UnsafeBufferPointer<UInt8>, Bool, Bool) throws -> Int) throws {
            try ChunkedFile.forEachChunk(path, chunkBytes: 8 << 20, limit: limit, limitName: limitName, consume)
        }
        var number = 0
        switch LabelledTexts.format(of: path, config: config) {
        case .csv:
            var line = 1
            var textColumn: (index: Int, count: Int)?
            try feed { chunk, first, last in
                var records = CSVReader.RecordIterator(bytes: chunk, source: path, line: line, atFileStart: first, atFileEnd: last)
                defer { line = records.line }
                while let record = try records.next() {
                    guard let column = textColumn else {
                        textColumn = try columnOf(config.textColumn, in: record.fields, source: path)
                        continue
                    }
                    guard record.fields.count == column.count else {
                        throw TextModelError.data("\(path):\(record.line): row has \(record.fields.count) field\(record.fields.count == 1 ? "" : "s") but the header has \(column.count)")
                    }
                    texts.append(fromString(record.fields[column.index]))
                }
                return records.position
            }
            if textColumn == nil {
                throw TextModelError.data("\(path) is empty: a CSV file needs a header row naming the column \"\(config.textColumn)\"")
            }
        case .jsonl:
            try feed { chunk, first, last in
                try Lines.forEach(in: chunk, first: first, last: last, number: &number) { slice, lineNumber in
                    if slice.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return }
                    var bytes = Array(slice)
                    let value: JSONValue
                    do {
                        value = try JSONValue.parse(bytes: &bytes, what: "\(path):\(lineNumber)")
                    } catch let e as TextModelError {
                        throw TextModelError.data(e.message)
                    }
                    guard case .object = value else {
                        throw TextModelError.data("\(path):\(lineNumber): each line must be a JSON object (got \(value.typeName))")
                    }
                    switch value[config.textColumn] {
                    case .string(let s)?: texts.append(fromString(s))
                    case nil, .null?: texts.append(fromString(""))
                    case let other?: texts.append(fromString(other.serialized))
                    }
                }
            }
        case .fasttext, .auto:   // format(of:) resolves auto
            try feed { chunk, first, last in
                Lines.forEach(in: chunk, first: first, last: last, number: &number) { line, _ in
                    texts.append(fromLine(withoutLabels(line)))
                }
            }
        }
        return texts
    }

    private static func columnOf(_ name: String, in names: [String], source: String) throws -> (index: Int, count: Int) {
        let matches = names.indices.filter { names[$0] == name }
        guard let index = matches.first else {
            let shown = names.map { "\"\($0)\"" }.joined(separator: ", ")
            throw TextModelError.data("\(source) has no column named \"\(name)\" (the header has \(shown))")
        }
        if matches.count > 1 { throw TextModelError.data("\(source) has more than one column named \"\(name)\"") }
        return (index, names.count)
    }

    /// The line after its leading `__label__` tokens and the spaces around them.
    private static func withoutLabels(_ line: Lines.Line) -> Lines.Line {
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0B || b == 0x0C }
        var i = line.startIndex
        while true {
            var j = i
            while j < line.endIndex && isSpace(line[j]) { j += 1 }
            guard line[j...].starts(with: FastTextReader.prefix) else { break }
            while j < line.endIndex && !isSpace(line[j]) { j += 1 }
            i = j
        }
        var text = line[i...]
        while let f = text.first, isSpace(f), i != line.startIndex { text = text.dropFirst() }
        return text
    }
}
