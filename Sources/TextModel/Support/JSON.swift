import CJSON

/// A JSON document tree. Parsing goes through json-c; objects keep their key order so
/// that what we write reads back in the same order.
public indirect enum JSONValue {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    /// The member named `key` of an object, or nil.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last(where: { $0.0 == key })?.1
    }

    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    public var objectValue: [(String, JSONValue)]? { if case .object(let o) = self { return o }; return nil }
    public var doubleValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    /// Name of the JSON type, for error messages.
    var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int: return "an integer"
        case .double: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    // MARK: parsing

    /// Parses a complete JSON text. `what` names the document in error messages.
    public static func parse(_ text: String, what: String = "JSON") throws -> JSONValue {
        var utf8 = Array(text.utf8)
        return try parse(bytes: &utf8, what: what)
    }

    /// Strict RFC 8259 parsing (no comments, single quotes, trailing commas, NaN or raw
    /// control characters): StrictJSON checks the text, json-c builds the tree.
    static func parse(bytes: inout [UInt8], what: String) throws -> JSONValue {
        do {
            try StrictJSON.validate(bytes)
        } catch let failure as StrictJSON.Failure {
            if failure.isValidJSON {
                // The key as written, escapes and all: from its opening quote to its closing one.
                var end = failure.offset + 1
                while end < bytes.count && bytes[end] != UInt8(ascii: "\"") { end += bytes[end] == UInt8(ascii: "\\") ? 2 : 1 }
                let key = String(decoding: bytes[failure.offset..<min(end + 1, bytes.count)], as: UTF8.self)
                throw TextModelError.config("\(what) is refused: \(failure.message): \(echo(key)) at byte \(failure.offset)")
            }
            if failure.offset >= bytes.count {
                throw TextModelError.config("\(what) is incomplete: it ends before the JSON value does (\(failure.message))")
            }
            throw TextModelError.config("\(what) is not valid JSON: \(failure.message) at byte \(failure.offset)")
        }
        guard let tokener = json_tokener_new() else { throw TextModelError.resource("out of memory parsing \(what)") }
        defer { json_tokener_free(tokener) }
        json_tokener_set_flags(tokener, JSON_TOKENER_STRICT)
        // A number or literal at the very end stays "incomplete" to json-c (more digits
        // could follow); one space of whitespace after the text settles it.
        bytes.append(0x20)
        defer { bytes.removeLast() }
        if bytes.count > Int(Int32.max) { throw TextModelError.resource("\(what) is too large to parse") }
        let object: OpaquePointer? = bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: max(buffer.count, 1)) {
                json_tokener_parse_ex(tokener, $0, Int32(buffer.count))
            }
        }
        let error = json_tokener_get_error(tokener)
        if error == json_tokener_continue {
            throw TextModelError.config("\(what) is incomplete: it ends before the JSON value does")
        }
        guard error == json_tokener_success else {
            let offset = json_tokener_get_parse_end(tokener)
            throw TextModelError.config("\(what) is not valid JSON (\(String(cString: json_tokener_error_desc(error))) near byte \(offset))")
        }
        // json-c represents a JSON null as a NULL object.
        defer { if let root = object { json_object_put(root) } }
        let end = Int(json_tokener_get_parse_end(tokener))
        if end < bytes.count, bytes[end...].contains(where: { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D) }) {
            throw TextModelError.config("\(what) has extra text after the JSON value (at byte \(end))")
        }
        return convert(object)
    }

    private static func convert(_ object: OpaquePointer?) -> JSONValue {
        guard let object = object else { return .null }
        switch json_object_get_type(object) {
        case json_type_null: return .null
        case json_type_boolean: return .bool(json_object_get_boolean(object) != 0)
        case json_type_int: return .int(json_object_get_int64(object))
        case json_type_double: return .double(json_object_get_double(object))
        case json_type_string:
            let length = Int(json_object_get_string_len(object))
            guard let chars = json_object_get_string(object) else { return .string("") }
            let buffer = UnsafeRawBufferPointer(start: chars, count: length)
            return .string(String(decoding: buffer, as: UTF8.self))
        case json_type_array:
            let n = json_object_array_length(object)
            var items = [JSONValue]()
            items.reserveCapacity(n)
            for i in 0..<n { items.append(convert(json_object_array_get_idx(object, i))) }
            return .array(items)
        case json_type_object:
            var members = [(String, JSONValue)]()
            var it = json_object_iter_begin(object)
            var end = json_object_iter_end(object)
            while json_object_iter_equal(&it, &end) == 0 {
                let name = String(cString: json_object_iter_peek_name(&it))
                members.append((name, convert(json_object_iter_peek_value(&it))))
                json_object_iter_next(&it)
            }
            return .object(members)
        default:
            return .null
        }
    }

    // MARK: writing

    /// Compact JSON text. Non-finite numbers, which JSON cannot express, become null.
    public var serialized: String {
        var out = ""
        write(to: &out)
        return out
    }

    private func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d):
            if !d.isFinite { out += "null" }
            else if d == d.rounded(), abs(d) < 1e15 { out += String(Int64(d)) }
            else { out += "\(d)" }
        case .string(let s): JSONValue.writeString(s, to: &out)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.write(to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (i, (key, value)) in members.enumerated() {
                if i > 0 { out += "," }
                JSONValue.writeString(key, to: &out)
                out += ":"
                value.write(to: &out)
            }
            out += "}"
        }
    }

    private static func writeString(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}
