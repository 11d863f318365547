/// RFC 4180 CSV: a header row, comma-separated fields, fields optionally in double
/// quotes (which may hold commas, doubled quotes, CR and LF). Records end with CRLF,
/// LF or CR. Invalid UTF-8 becomes U+FFFD. Structural problems (a quote never closed,
/// a row whose field count differs from the header's, a missing or doubled column) are
/// errors that name the line. Like Python's csv module, a quote inside an unquoted field
/// and text right after a closing quote are kept as ordinary characters.
///
/// A file is parsed a chunk at a time (`Parser.consume`), so its bytes and its texts are
/// never both whole in memory.
enum CSVReader {
    static func read(_ bytes: [UInt8], source: String, textColumn: String, labelColumn: String) throws -> LabelledTexts {
        var parser = Parser(source: source, textColumn: textColumn, labelColumn: labelColumn)
        _ = try bytes.withUnsafeBufferPointer { try parser.consume($0, first: true, last: true) }
        return try parser.finish()
    }

    /// The parse of one file, fed in chunks.
    struct Parser {
        let source: String
        let textColumn: String
        let labelColumn: String
        private var columns: (count: Int, text: Int, label: Int)?
        private var line = 1
        private var result = LabelledTexts()

        init(source: String, textColumn: String, labelColumn: String) {
            self.source = source
            self.textColumn = textColumn
            self.labelColumn = labelColumn
        }

        /// Parses the complete records at the start of `chunk` (the bytes after what
        /// earlier calls consumed; `first` for the file's start, `last` for its end) and
        /// returns how many bytes they took. A record the chunk ends inside is left for
        /// the next call, which must bring more bytes.
        mutating func consume(_ chunk: UnsafeBufferPointer<UInt8>, first: Bool, last: Bool) throws -> Int {
            var records = RecordIterator(bytes: chunk, source: source, line: line, atFileStart: first, atFileEnd: last)
            defer { line = records.line }
            if columns == nil {
                guard let header = try records.next() else {
                    if !last { return records.position }
                    throw TextModelError.data("\(source) is empty: a CSV file needs a header row naming the columns \"\(labelColumn)\" and \"\(textColumn)\"")
                }
                columns = try columnsOf(header.fields)
            }
            guard let columns = columns else { return records.position }
            var result = self.result
            self.result = LabelledTexts()  // one owner while appending, so no copy
            defer { self.result = result }
            while let record = try records.next() {
                guard record.fields.count == columns.count else {
                    throw TextModelError.data("\(source):\(record.line): row has \(record.fields.count) field\(record.fields.count == 1 ? "" : "s") but the header has \(columns.count)")
                }
                result.append(text: record.fields[columns.text], label: record.fields[columns.label])
            }
            return records.position
        }

        /// The rows parsed so far, handed over: the parser goes on from none (a file read
        /// a chunk of rows at a time, LabelledFile).
        mutating func takeRows() -> LabelledTexts {
            defer { result = LabelledTexts() }
            return result
        }

        /// The rows, once the last chunk is consumed.
        func finish() throws -> LabelledTexts {
            if columns == nil {
                throw TextModelError.data("\(source) is empty: a CSV file needs a header row naming the columns \"\(labelColumn)\" and \"\(textColumn)\"")
            }
            return result
        }

        private func columnsOf(_ names: [String]) throws -> (count: Int, text: Int, label: Int) {
            func column(_ name: String) throws -> Int {
                guard let i = names.firstIndex(of: name) else {
                    let shown = names.prefix(20).map { "\"\(echo($0))\"" }.joined(separator: ", ") + (names.count > 20 ? ", …" : "")
                    throw TextModelError.data("\(source) has no column named \"\(echo(name))\" (the header has \(shown))")
                }
                return i
            }
            for name in [textColumn, labelColumn] where names.filter({ $0 == name }).count > 1 {
                throw TextModelError.data("\(source) has more than one column named \"\(echo(name))\"")
            }
            return (names.count, try column(textColumn), try column(labelColumn))
        }
    }

    struct Record {
        var fields: [String]
        var line: Int
    }

    /// Yields one record at a time; skips lines that are completely empty. When the
    /// bytes end inside a record and more are to come (not `atFileEnd`), `next()`
    /// returns nil with `position` and `line` back at that record's start.
    struct RecordIterator {
        let bytes: UnsafeBufferPointer<UInt8>
        let source: String
        let atFileEnd: Bool
        private(set) var position = 0
        private(set) var line: Int

        init(bytes: UnsafeBufferPointer<UInt8>, source: String, line: Int, atFileStart: Bool, atFileEnd: Bool) {
            self.bytes = bytes
            self.source = source
            self.line = line
            self.atFileEnd = atFileEnd
            if atFileStart && bytes.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }  // UTF-8 byte-order mark
        }

        /// Rewinds to the record that starts at `start` and asks for more bytes.
        private mutating func waitForMore(from start: Int, line startLine: Int) -> Record? {
            position = start
            line = startLine
            return nil
        }

        /// A CR that is the chunk's last byte may be the first half of a CRLF.
        private var crAtChunkEnd: Bool {
            !atFileEnd && bytes[position] == RecordIterator.cr && position + 1 == bytes.count
        }

        private static let quote: UInt8 = 0x22, comma: UInt8 = 0x2C, cr: UInt8 = 0x0D, lf: UInt8 = 0x0A

        mutating func next() throws -> Record? {
            while position < bytes.count {
                let startLine = line, start = position
                // Blank line: skip it.
                if bytes[position] == RecordIterator.lf || bytes[position] == RecordIterator.cr {
                    if crAtChunkEnd { return waitForMore(from: start, line: startLine) }
                    consumeLineEnd()
                    continue
                }
                var fields = [String]()
                var field = [UInt8]()
                var ended = false
                while !ended {
                    if position < bytes.count && bytes[position] == RecordIterator.quote {
                        guard try readQuoted(into: &field, openedAt: line) else { return waitForMore(from: start, line: startLine) }
                    }
                    // Unquoted content (or text after a closing quote, kept as Python's csv does).
                    while position < bytes.count {
                        let b = bytes[position]
                        if b == RecordIterator.comma || b == RecordIterator.lf || b == RecordIterator.cr { break }
                        field.append(b)
                        position += 1
                    }
                    if position >= bytes.count && !atFileEnd || position < bytes.count && crAtChunkEnd {
                        return waitForMore(from: start, line: startLine)
                    }
                    fields.append(String(decoding: field, as: UTF8.self))
                    field.removeAll(keepingCapacity: true)
                    if position >= bytes.count {
                        ended = true
                    } else if bytes[position] == RecordIterator.comma {
                        position += 1
                    } else {
                        consumeLineEnd()
                        ended = true
                    }
                }
                return Record(fields: fields, line: startLine)
            }
            return nil
        }

        private mutating func consumeLineEnd() {
            if bytes[position] == RecordIterator.cr {
                position += 1
                if position < bytes.count && bytes[position] == RecordIterator.lf { position += 1 }
            } else {
                position += 1
            }
            line += 1
        }

        /// Reads a quoted field; false if the chunk ends before it does (more to come).
        private mutating func readQuoted(into field: inout [UInt8], openedAt openLine: Int) throws -> Bool {
            position += 1  // opening quote
            while position < bytes.count {
                let b = bytes[position]
                if b == RecordIterator.quote {
                    if position + 1 < bytes.count && bytes[position + 1] == RecordIterator.quote {
                        field.append(RecordIterator.quote)
                        position += 2
                        continue
                    }
                    position += 1  // closing quote
                    return true
                }
                // Count line breaks as consumeLineEnd does: LF, CRLF (once) and a lone CR.
                if b == RecordIterator.lf || (b == RecordIterator.cr && (position + 1 >= bytes.count || bytes[position + 1] != RecordIterator.lf)) {
                    line += 1
                }
                field.append(b)
                position += 1
            }
            if !atFileEnd { return false }
            throw TextModelError.data("\(source):\(openLine): a quoted field opened on this line is never closed (unbalanced \")")
        }
    }
}
