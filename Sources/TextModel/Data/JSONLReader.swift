/// JSON Lines: one JSON object per line, the text and label in configurable fields
/// (data.text_column, data.label_column). A label may be a string or a number (kept as
/// its JSON text); for a multi-label model (`labelSeparator` given) it may also be an
/// array of labels, joined with the separator. Blank lines are skipped; a missing or
/// null field counts as an empty text or a missing label; a line that is not a JSON
/// object is an error naming it.
enum JSONLReader {
    static func read(_ bytes: [UInt8], source: String, textField: String, labelField: String,
                     labelSeparator: String? = nil) throws -> LabelledTexts {
        var parser = Parser(source: source, textField: textField, labelField: labelField, labelSeparator: labelSeparator)
        _ = try bytes.withUnsafeBufferPointer { try parser.consume($0, first: true, last: true) }
        return parser.result
    }

    /// The parse of one file, fed in chunks (see CSVReader.Parser.consume).
    struct Parser {
        let source: String
        let textField: String
        let labelField: String
        let labelSeparator: String?
        private(set) var result = LabelledTexts()
        private var number = 0

        init(source: String, textField: String, labelField: String, labelSeparator: String?) {
            self.source = source
            self.textField = textField
            self.labelField = labelField
            self.labelSeparator = labelSeparator
        }

        mutating func consume(_ chunk: UnsafeBufferPointer<UInt8>, first: Bool, last: Bool) throws -> Int {
            var result = self.result
            self.result = LabelledTexts()  // one owner while appending, so no copy
            defer { self.result = result }
            let (source, textField, labelField, labelSeparator) = (self.source, self.textField, self.labelField, self.labelSeparator)
            return try Lines.forEach(in: chunk, first: first, last: last, number: &number) { slice, lineNumber in
                try JSONLReader.parseLine(slice, lineNumber: lineNumber, source: source, textField: textField,
                                          labelField: labelField, labelSeparator: labelSeparator, into: &result)
            }
        }

        /// The rows parsed so far, handed over: the parser goes on from none (a file read
        /// a chunk of rows at a time, LabelledFile).
        mutating func takeRows() -> LabelledTexts {
            defer { result = LabelledTexts() }
            return result
        }
    }

    private static func parseLine(_ slice: Lines.Line, lineNumber: Int, source: String, textField: String, labelField: String,
                                  labelSeparator: String?, into result: inout LabelledTexts) throws {
        if slice.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return }
        var line = Array(slice)
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes: &line, what: "\(source):\(lineNumber)")
        } catch let e as TextModelError {
            throw TextModelError.data(e.message)
        }
        guard case .object = value else {
            throw TextModelError.data("\(source):\(lineNumber): each line must be a JSON object (got \(value.typeName))")
        }
        var label = text(of: value[labelField])
        if case .array(let items)? = value[labelField] {
            let location = "\(source):\(lineNumber)"
            guard let separator = labelSeparator else {
                throw TextModelError.data("\(location): the label field \"\(labelField)\" is a list; a single-label model needs one label (set model.task \"multi_label\" for several)")
            }
            let labels = try items.map { item -> String in
                guard let l = text(of: item) else {
                    throw TextModelError.data("\(location): the label list holds \(item.typeName); labels are strings or numbers")
                }
                return l
            }
            label = labels.isEmpty ? nil : try LabelledTexts.join(labels, separator: separator, at: location)
        }
        result.append(text: text(of: value[textField]), label: label)
    }

    /// A field as text: strings as they are, numbers and booleans as JSON, else nil.
    private static func text(of value: JSONValue?) -> String? {
        switch value {
        case .string(let s)?: return s
        case .int?, .double?, .bool?: return value?.serialized
        default: return nil
        }
    }
}
