// The JSON module: parsing through json-c, compact serialisation, escapes, unicode,
// numbers, key order, non-finite numbers and error reporting.
import XCTest
@testable import TextModel

/// Structural equality; an integral double and the same integer count as equal, because
/// the writer prints whole doubles as integers.
func jsonEqual(_ a: JSONValue, _ b: JSONValue) -> Bool {
    switch (a, b) {
    case (.null, .null): return true
    case let (.bool(x), .bool(y)): return x == y
    case let (.int(x), .int(y)): return x == y
    case let (.double(x), .double(y)): return x == y || (x.isNaN && y.isNaN)
    case let (.int(x), .double(y)), let (.double(y), .int(x)): return Double(x) == y
    case let (.string(x), .string(y)): return Array(x.unicodeScalars) == Array(y.unicodeScalars)
    case let (.array(x), .array(y)): return x.count == y.count && zip(x, y).allSatisfy(jsonEqual)
    case let (.object(x), .object(y)):
        return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && jsonEqual($0.1, $1.1) }
    default: return false
    }
}

final class JSONTests: XCTestCase {

    private func roundTrip(_ value: JSONValue, file: StaticString = #filePath, line: UInt = #line) {
        let text = value.serialized
        do {
            let back = try JSONValue.parse(text)
            XCTAssertTrue(jsonEqual(back, value), "\(text) read back differently", file: file, line: line)
            XCTAssertEqual(back.serialized, text, file: file, line: line)
        } catch {
            XCTFail("\(text) does not parse: \(error)", file: file, line: line)
        }
    }

    func testParseStructure() throws {
        let v = try JSONValue.parse(" {\"a\": [1, 2.5, \"x\", true, false, null, {\"b\": {}}], \"c\": -7} \n")
        guard case .array(let items)? = v["a"] else { return XCTFail("a is not an array") }
        XCTAssertEqual(items.count, 7)
        guard case .int(1) = items[0] else { return XCTFail("\(items[0])") }
        guard case .double(2.5) = items[1] else { return XCTFail("\(items[1])") }
        XCTAssertEqual(items[2].stringValue, "x")
        guard case .bool(true) = items[3], case .bool(false) = items[4], case .null = items[5] else { return XCTFail() }
        XCTAssertNotNil(items[6]["b"]?.objectValue)
        XCTAssertEqual(v["c"]?.doubleValue, -7)
        XCTAssertNil(v["missing"])
        XCTAssertNil(items[2]["a"])
    }

    func testStringEscapesRoundTrip() {
        let tricky = "quote \" backslash \\ slash / newline \n return \r tab \t bell \u{7} unit \u{1F} del \u{7F} nul \u{0} end"
        roundTrip(.string(tricky))
        let text = JSONValue.string("a\"b\\c\nd\u{1}").serialized
        XCTAssertEqual(text, "\"a\\\"b\\\\c\\nd\\u0001\"")
        // No raw control character may appear in the output.
        XCTAssertFalse(JSONValue.string(tricky).serialized.unicodeScalars.contains { $0.value < 0x20 })
    }

    func testUnicodeRoundTrip() {
        roundTrip(.string("école 中文 😀 👩\u{200D}💻 \u{2028}\u{2029} \u{FEFF} \u{10FFFF}"))
        roundTrip(.object([("ключ", .string("значение")), ("🔑", .array([.string("∞")]))]))
    }

    func testParsingEscapes() throws {
        let v = try JSONValue.parse("\"\\u00e9\\ud83d\\ude00\\/\\b\\f\\n\\\"\"")
        XCTAssertEqual(v.stringValue.map { Array($0.unicodeScalars) }, Array("é😀/\u{8}\u{C}\n\"".unicodeScalars))
    }

    func testNumbers() {
        roundTrip(.int(0))
        roundTrip(.int(Int64.max))
        roundTrip(.int(Int64.min))
        for d in [0.1, -2.5e-300, 1e300, 123_456.789, 1e-8, 0.001, 3e-7, Double.leastNonzeroMagnitude, Double.greatestFiniteMagnitude, 1e15, -1e16] {
            roundTrip(.double(d))
        }
        XCTAssertEqual(JSONValue.double(3).serialized, "3")
        XCTAssertEqual(JSONValue.double(-42).serialized, "-42")
    }

    func testNonFiniteNumbersBecomeNull() throws {
        XCTAssertEqual(JSONValue.double(.nan).serialized, "null")
        XCTAssertEqual(JSONValue.double(.infinity).serialized, "null")
        XCTAssertEqual(JSONValue.double(-.infinity).serialized, "null")
        let text = JSONValue.object([("loss", .double(.nan)), ("x", .array([.double(.infinity), .int(1)]))]).serialized
        XCTAssertEqual(text, "{\"loss\":null,\"x\":[null,1]}")
        XCTAssertNoThrow(try JSONValue.parse(text))
    }

    func testObjectsKeepKeyOrder() throws {
        let keys = ["z", "a", "m", "b", "y", "c", "x", "d", "w", "e", "v", "f", "u", "g", "t", "h", "s", "i"]
        let value = JSONValue.object(keys.enumerated().map { ($1, .int(Int64($0))) })
        let back = try JSONValue.parse(value.serialized)
        XCTAssertEqual(back.objectValue?.map(\.0), keys)
        roundTrip(value)
    }

    func testEmptyContainersAndNesting() {
        roundTrip(.array([]))
        roundTrip(.object([]))
        roundTrip(.string(""))
        var nested = JSONValue.int(1)
        for i in 0..<20 { nested = i % 2 == 0 ? .array([nested, .null]) : .object([("k", nested)]) }
        roundTrip(nested)
    }

    func testErrorsAreConfigErrorsNamingTheDocument() {
        assertThrowsTextModelError(.config, mentioning: ["the header"]) { try JSONValue.parse("{", what: "the header") }
        assertThrowsTextModelError(.config, mentioning: ["the header"]) { try JSONValue.parse("{]", what: "the header") }
        assertThrowsTextModelError(.config) { try JSONValue.parse("[1] 2") }
        assertThrowsTextModelError(.config) { try JSONValue.parse("{} {}") }
        assertThrowsTextModelError(.config) { try JSONValue.parse("") }
        assertThrowsTextModelError(.config) { try JSONValue.parse("   ") }
        assertThrowsTextModelError(.config) { try JSONValue.parse("[1,") }
        XCTAssertNoThrow(try JSONValue.parse("[1]  \r\n\t"))
    }

    /// What the doc comment of JSONValue.parse and docs/config.md promise: strict
    /// RFC 8259, no comments, single quotes or trailing commas.
    func testStrictJSONRefusesCommentsSingleQuotesAndTrailingCommas() {
        for text in ["[1,]", "{\"a\":1,}", "/* c */ {}", "// c\n{}", "{} // c", "['a']", "{\"a\":'b'}",
                     "{'a':1}", "{a:1}"] {
            assertThrowsTextModelError(.config, text) { try JSONValue.parse(text) }
        }
    }

    /// RFC 8259 numbers and literals only: no NaN / Infinity, no leading zeros, digits on
    /// both sides of a decimal point.
    func testStrictJSONRefusesNonRFCNumbers() {
        for text in ["NaN", "[Infinity]", "-Infinity", "[01]", "[.5]", "[1.]", "[+1]", "tru", "nul"] {
            assertThrowsTextModelError(.config, text) { try JSONValue.parse(text) }
        }
    }

    /// RFC 8259: control characters inside strings must be escaped.
    func testStrictJSONRefusesRawControlCharactersInStrings() {
        for text in ["\"tab\tinside\"", "\"line\nbreak\"", "[\"\\x\"]"] {
            assertThrowsTextModelError(.config, text.debugDescription) { try JSONValue.parse(text) }
        }
    }

    func testTopLevelScalars() throws {
        guard case .null = try JSONValue.parse("null") else { return XCTFail("null") }
        guard case .int(12) = try JSONValue.parse("12") else { return XCTFail("12") }
        guard case .double(-0.5) = try JSONValue.parse(" -0.5 ") else { return XCTFail("-0.5") }
        guard case .bool(true) = try JSONValue.parse("true") else { return XCTFail("true") }
        XCTAssertEqual(try JSONValue.parse("\"s\"").stringValue, "s")
    }

    func testDeepNestingDoesNotCrash() {
        // json-c limits nesting depth; beyond it, an error (not a crash) is fine.
        let deep = String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
        _ = try? JSONValue.parse(deep)
    }
}
