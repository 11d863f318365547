/// Checks that bytes hold exactly one JSON value as RFC 8259 defines it. json-c, even in
/// its strict mode, accepts single-quoted keys, NaN/Infinity, "1." and raw control
/// characters in strings; configs and model headers are refused for those here, before
/// json-c builds the tree.
struct StrictJSON {
    private let bytes: [UInt8]
    private var position = 0
    /// Nesting deeper than this is refused (json-c's own limit is 32).
    static let maxDepth = 32

    struct Failure: Error {
        let message: String
        let offset: Int
        /// The text is JSON, but holds what no document of ours may (a NUL in a key).
        var isValidJSON = false
    }

    static func validate(_ bytes: [UInt8]) throws {
        var checker = StrictJSON(bytes: bytes)
        checker.skipSpace()
        try checker.value(depth: 0)
        checker.skipSpace()
        if checker.position < bytes.count { throw checker.fail("extra text after the JSON value") }
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private func fail(_ message: String) -> Failure { Failure(message: message, offset: position) }

    private var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func skipSpace() {
        while let b = current, b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D { position += 1 }
    }

    private mutating func expect(_ literal: String) throws {
        for b in literal.utf8 {
            guard current == b else { throw fail("invalid literal (expected \(literal))") }
            position += 1
        }
    }

    private mutating func value(depth: Int) throws {
        guard depth < StrictJSON.maxDepth else { throw fail("nesting deeper than \(StrictJSON.maxDepth) levels") }
        guard let b = current else { throw fail("unexpected end of text") }
        switch b {
        case UInt8(ascii: "{"): try object(depth: depth)
        case UInt8(ascii: "["): try array(depth: depth)
        case UInt8(ascii: "\""): try string()
        case UInt8(ascii: "t"): try expect("true")
        case UInt8(ascii: "f"): try expect("false")
        case UInt8(ascii: "n"): try expect("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number()
        default: throw fail("unexpected character '\(Character(Unicode.Scalar(b)))'")
        }
    }

    private mutating func object(depth: Int) throws {
        position += 1
        skipSpace()
        if current == UInt8(ascii: "}") { position += 1; return }
        while true {
            guard current == UInt8(ascii: "\"") else { throw fail("object keys must be double-quoted strings") }
            try string(isKey: true)
            skipSpace()
            guard current == UInt8(ascii: ":") else { throw fail("expected ':' after an object key") }
            position += 1
            skipSpace()
            try value(depth: depth + 1)
            skipSpace()
            if current == UInt8(ascii: ",") {
                position += 1
                skipSpace()
                continue
            }
            guard current == UInt8(ascii: "}") else { throw fail("expected ',' or '}' in an object") }
            position += 1
            return
        }
    }

    private mutating func array(depth: Int) throws {
        position += 1
        skipSpace()
        if current == UInt8(ascii: "]") { position += 1; return }
        while true {
            try value(depth: depth + 1)
            skipSpace()
            if current == UInt8(ascii: ",") {
                position += 1
                skipSpace()
                continue
            }
            guard current == UInt8(ascii: "]") else { throw fail("expected ',' or ']' in an array") }
            position += 1
            return
        }
    }

    /// A key may not hold an escaped NUL: json-c keeps keys as C strings, so
    /// "epochs\u0000zzz" would silently become "epochs".
    private mutating func string(isKey: Bool = false) throws {
        let opening = position
        position += 1
        while let b = current {
            position += 1
            if b == UInt8(ascii: "\"") { return }
            if b < 0x20 { position -= 1; throw fail("raw control character in a string (escape it)") }
            if b == UInt8(ascii: "\\") {
                guard let e = current else { break }
                position += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                     UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    continue
                case UInt8(ascii: "u"):
                    for _ in 0..<4 {
                        guard let h = current, isHex(h) else { throw fail("\\u needs four hex digits") }
                        position += 1
                    }
                    if isKey && bytes[(position - 4)..<position].allSatisfy({ $0 == UInt8(ascii: "0") }) {
                        throw Failure(message: "an object key holds an escaped NUL (\\u0000), which no key may contain",
                                      offset: opening, isValidJSON: true)
                    }
                default:
                    throw fail("invalid escape sequence in a string")
                }
            }
        }
        throw fail("unterminated string")
    }

    private func isHex(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66)
    }

    private mutating func digits() -> Int {
        let start = position
        while let b = current, b >= 0x30 && b <= 0x39 { position += 1 }
        return position - start
    }

    private mutating func number() throws {
        if current == UInt8(ascii: "-") { position += 1 }
        if current == UInt8(ascii: "0") {
            position += 1
        } else if digits() == 0 {
            throw fail("invalid number")
        }
        if current == UInt8(ascii: ".") {
            position += 1
            guard digits() > 0 else { throw fail("a decimal point must be followed by digits") }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            position += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
            guard digits() > 0 else { throw fail("an exponent needs digits") }
        }
    }
}
