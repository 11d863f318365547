/// fastText's supervised format: one example per line, labels first as
/// `__label__NAME` tokens, then the text. CR before LF is dropped; invalid UTF-8 becomes
/// U+FFFD. A line without a label counts as a missing label; a line with several labels
/// is an error for a single-label model, and for a multi-label model (`labelSeparator`
/// given) its labels are joined with the separator.
enum FastTextReader {
    static let prefix = Array("__label__".utf8)

    static func read(_ bytes: [UInt8], source: String, labelSeparator: String? = nil) throws -> LabelledTexts {
        var parser = Parser(source: source, labelSeparator: labelSeparator)
        _ = try bytes.withUnsafeBufferPointer { try parser.consume($0, first: true, last: true) }
        return parser.result
    }

    /// The parse of one file, fed in chunks (see CSVReader.Parser.consume).
    struct Parser {
        let source: String
        let labelSeparator: String?
        private(set) var result = LabelledTexts()
        private var number = 0

        init(source: String, labelSeparator: String?) {
            self.source = source
            self.labelSeparator = labelSeparator
        }

        mutating func consume(_ chunk: UnsafeBufferPointer<UInt8>, first: Bool, last: Bool) throws -> Int {
            let (source, separator) = (self.source, labelSeparator)
            var result = self.result
            self.result = LabelledTexts()  // one owner while appending, so no copy
            defer { self.result = result }
            return try Lines.forEach(in: chunk, first: first, last: last, number: &number) { line, number in
                try parseLine(line, line: number, source: source, labelSeparator: separator, into: &result)
            }
        }

        /// The rows parsed so far, handed over: the parser goes on from none (a file read
        /// a chunk of rows at a time, LabelledFile).
        mutating func takeRows() -> LabelledTexts {
            defer { result = LabelledTexts() }
            return result
        }
    }

    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0B || b == 0x0C }

    private static func parseLine(_ line: Lines.Line, line number: Int, source: String, labelSeparator: String?,
                                  into result: inout LabelledTexts) throws {
        var i = line.startIndex
        var labels = [String]()
        while true {
            while i < line.endIndex && isSpace(line[i]) { i += 1 }
            guard line[i...].starts(with: prefix) else { break }
            var j = i
            while j < line.endIndex && !isSpace(line[j]) { j += 1 }
            labels.append(String(decoding: line[(i + prefix.count)..<j], as: UTF8.self))
            i = j
        }
        if labels.isEmpty && line.allSatisfy(isSpace) { return }  // blank line
        let text = String(decoding: line[i...], as: UTF8.self)
        if let separator = labelSeparator {
            result.append(text: text, label: labels.isEmpty ? nil : try LabelledTexts.join(labels, separator: separator, at: "\(source):\(number)"))
            return
        }
        if labels.count > 1 {
            throw TextModelError.data("\(source):\(number): the line has \(labels.count) labels; a single-label model needs exactly one (set model.task \"multi_label\" for several)")
        }
        result.append(text: text, label: labels.first)
    }
}
