/// JSON Lines: one JSON object per line, the text and label in configurable fields
/// (data.text_column, data.label_column). A label may be a string or a number (kept as
/// its JSON text). Blank lines are skipped; a missing or null field counts as an empty
/// text or a missing label; a line that is not a JSON object is an error naming it.
enum JSONLReader {
    static func read(_ bytes: [UInt8], source: String, textField: String, labelField: String) throws -> LabelledTexts {
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
            result.append(text: text(of: value[textField]), label: text(of: value[labelField]))
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
