/// fastText's supervised format: one example per line, labels first as
/// `__label__NAME` tokens, then the text. CR before LF is dropped; invalid UTF-8 becomes
/// U+FFFD. A line without a label counts as a missing label; a line with several labels
/// is an error for a single-label model, and for a multi-label model (`labelSeparator`
/// given) its labels are joined with the separator.
enum FastTextReader {
    static let prefix = Array("__label__".utf8)

    static func read(_ bytes: [UInt8], source: String, labelSeparator: String? = nil) throws -> LabelledTexts {
        var result = LabelledTexts()
        try Lines.forEach(in: bytes) { line, number in
            try parseLine(line, line: number, source: source, labelSeparator: labelSeparator, into: &result)
        }
        return result
    }

    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0B || b == 0x0C }

    private static func parseLine(_ line: ArraySlice<UInt8>, line number: Int, source: String, labelSeparator: String?,
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
