/// JSON Lines: one JSON object per line, the text and label in configurable fields
/// (data.text_column, data.label_column). A label may be a string or a number (kept as
/// its JSON text); for a multi-label model (`labelSeparator` given) it may also be an
/// array of labels, joined with the separator. Blank lines are skipped; a missing or
/// null field counts as an empty text or a missing label; a line that is not a JSON
/// object is an error naming it.
enum JSONLReader {
    static func read(_ bytes: [UInt8], source: String, textField: String, labelField: String,
                     labelSeparator: String? = nil) throws -> LabelledTexts {
        var result = LabelledTexts()
        try Lines.forEach(in: bytes) { slice, lineNumber in
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
        return result
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
