// The edges of the config and of error messages: whitespace-only configs, escaped NULs
// in keys and values, and echoes of a caller's keys and values kept short.
import XCTest
@testable import TextModel

final class EdgeInputTests: XCTestCase {
    func testWhitespaceAloneIsMalformedJSON() {
        for blank in [" ", "\n", " \t\r\n "] {
            assertThrowsTextModelError(.config, mentioning: ["not valid JSON", "whitespace"]) { _ = try Config(json: blank) }
        }
        // nil and "" stay the documented spellings of the defaults.
        XCTAssertNoThrow(try Config(json: nil))
        XCTAssertNoThrow(try Config(json: ""))
        XCTAssertNoThrow(try Config(json: " {} \n"))
    }

    func testAnEscapedNULInAnyKeyIsRefused() {
        // json-c keeps keys as C strings: this one was read as "epochs".
        let error = assertThrowsTextModelError(.config, mentioning: ["escaped NUL", #""epochs\u0000zzz""#]) {
            _ = try Config(json: #"{"training": {"epochs\u0000zzz": 3}}"#)
        }
        XCTAssertNotNil(error)
        for json in [#"{"\u0000": 1}"#, #"{"model\u0000": {}}"#, #"{"training": {"class_weights": {"a\u0000": 2}}}"#,
                     #"{"model": {"type": "lstm", "x\u0000y": 1}}"#] {
            assertThrowsTextModelError(.config, mentioning: ["NUL"], json) { _ = try Config(json: json) }
        }
        // \u0000 followed by digits is still NUL; \u00410 ("A0") is not.
        assertThrowsTextModelError(.config, mentioning: ["NUL"]) { _ = try Config(json: #"{"a\u00001": 1}"#) }
        XCTAssertNoThrow(try JSONValue.parse(#"{"\u00410": 1}"#))
        // In string values JSON keeps NULs (json-c gives their length); JSON Lines texts may hold them.
        XCTAssertEqual(try JSONValue.parse(#"["a\u0000b"]"#).arrayValue?.first?.stringValue?.utf8.count, 3)
    }

    func testNULInAConfigStringIsRefused() {
        assertThrowsTextModelError(.config, mentioning: ["model.pretrained_vectors", "NUL", #""v.vec\u{0}x""#]) {
            _ = try Config(json: #"{"model": {"pretrained_vectors": "v.vec\u0000x"}}"#)
        }
        assertThrowsTextModelError(.config, mentioning: ["data.label_separator", "NUL"]) {
            _ = try Config(json: #"{"data": {"label_separator": "\u0000"}}"#)
        }
    }

    func testEchoesOfLongKeysAndValuesAreCutAtACharacterWithAnEllipsis() throws {
        let key = String(repeating: "é", count: 500_000)   // 1 MB of 2-byte characters
        let unknown = assertThrowsTextModelError(.config, mentioning: ["is not a known key", "é…"]) {
            _ = try Config(json: #"{"training": {"\#(key)": 1}}"#)
        }
        XCTAssertLessThan(unknown?.message.utf8.count ?? .max, 600)
        let choice = assertThrowsTextModelError(.config, mentioning: ["model.type must be one of", "é…"]) {
            _ = try Config(json: #"{"model": {"type": "\#(key)"}}"#)
        }
        XCTAssertLessThan(choice?.message.utf8.count ?? .max, 600)

        XCTAssertEqual(echo("short"), "short")
        XCTAssertEqual(echo(String(repeating: "a", count: 64)), String(repeating: "a", count: 64))
        XCTAssertEqual(echo(String(repeating: "a", count: 65)), String(repeating: "a", count: 64) + "…")
        // 3-byte characters: 21 fit in 64 bytes, the 22nd would split.
        XCTAssertEqual(echo(String(repeating: "€", count: 30)), String(repeating: "€", count: 21) + "…")
        // A grapheme is never split (e + combining acute is 3 bytes).
        XCTAssertEqual(echo(String(repeating: "a", count: 62) + "e\u{301}"), String(repeating: "a", count: 62) + "…")
        XCTAssertEqual(echo("a\u{0}b\nc"), #"a\u{0}b\u{a}c"#)
    }

    func testAnUnseenLabelIsEchoedShort() throws {
        let model = Model(config: tinyConfig(epochs: 1))
        try model.train(KeywordData.make(count: 60, seed: 1))
        var data = LabelledTexts()
        data.append(text: "pizza", label: String(repeating: "x", count: 100_000))
        let error = assertThrowsTextModelError(.data, mentioning: ["which the model was not trained on", "x…"]) {
            _ = try model.evaluate(data)
        }
        XCTAssertLessThan(error?.message.utf8.count ?? .max, 400)
    }
}
