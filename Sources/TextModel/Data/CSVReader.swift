/// RFC 4180 CSV: a header row, comma-separated fields, fields optionally in double
/// quotes (which may hold commas, doubled quotes, CR and LF). Records end with CRLF,
/// LF or CR. Invalid UTF-8 becomes U+FFFD. Structural problems (a quote never closed,
/// a row whose field count differs from the header's, a missing or doubled column) are
/// errors that name the line. Like Python's csv module, a quote inside an unquoted field
/// and text right after a closing quote are kept as ordinary characters.
enum CSVReader {
    static func read(_ bytes: [UInt8], source: String, textColumn: String, labelColumn: String) throws -> LabelledTexts {
        var records = RecordIterator(bytes: bytes, source: source)
        guard let header = try records.next() else {
            throw TextModelError.data("\(source) is empty: a CSV file needs a header row naming the columns \"\(labelColumn)\" and \"\(textColumn)\"")
        }
        let names = header.fields
        func column(_ name: String) throws -> Int {
            guard let i = names.firstIndex(of: name) else {
                let shown = names.map { "\"\($0)\"" }.joined(separator: ", ")
                throw TextModelError.data("\(source) has no column named \"\(name)\" (the header has \(shown))")
            }
            return i
        }
        for name in [textColumn, labelColumn] where names.filter({ $0 == name }).count > 1 {
            throw TextModelError.data("\(source) has more than one column named \"\(name)\"")
        }
        let textIndex = try column(textColumn)
        let labelIndex = try column(labelColumn)

        var result = LabelledTexts()
        while let record = try records.next() {
            guard record.fields.count == names.count else {
                throw TextModelError.data("\(source):\(record.line): row has \(record.fields.count) field\(record.fields.count == 1 ? "" : "s") but the header has \(names.count)")
            }
            result.append(text: record.fields[textIndex], label: record.fields[labelIndex])
        }
        return result
    }

    struct Record {
        var fields: [String]
        var line: Int
    }

    /// Yields one record at a time; skips lines that are completely empty.
    struct RecordIterator {
        let bytes: [UInt8]
        let source: String
        var position = 0
        var line = 1

        init(bytes: [UInt8], source: String) {
            self.bytes = bytes
            self.source = source
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }  // UTF-8 byte-order mark
        }

        private static let quote: UInt8 = 0x22, comma: UInt8 = 0x2C, cr: UInt8 = 0x0D, lf: UInt8 = 0x0A

        mutating func next() throws -> Record? {
            while position < bytes.count {
                let startLine = line
                // Blank line: skip it.
                if bytes[position] == RecordIterator.lf || bytes[position] == RecordIterator.cr {
                    consumeLineEnd()
                    continue
                }
                var fields = [String]()
                var field = [UInt8]()
                var ended = false
                while !ended {
                    if position < bytes.count && bytes[position] == RecordIterator.quote {
                        try readQuoted(into: &field, openedAt: line)
                    }
                    // Unquoted content (or text after a closing quote, kept as Python's csv does).
                    while position < bytes.count {
                        let b = bytes[position]
                        if b == RecordIterator.comma || b == RecordIterator.lf || b == RecordIterator.cr { break }
                        field.append(b)
                        position += 1
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

        private mutating func readQuoted(into field: inout [UInt8], openedAt openLine: Int) throws {
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
                    return
                }
                // Count line breaks as consumeLineEnd does: LF, CRLF (once) and a lone CR.
                if b == RecordIterator.lf || (b == RecordIterator.cr && (position + 1 >= bytes.count || bytes[position + 1] != RecordIterator.lf)) {
                    line += 1
                }
                field.append(b)
                position += 1
            }
            throw TextModelError.data("\(source):\(openLine): a quoted field opened on this line is never closed (unbalanced \")")
        }
    }
}
