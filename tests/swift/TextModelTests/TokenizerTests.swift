// Tokenizer: lower-casing, word/punctuation splitting, apostrophes, URLs, emoji,
// separators, truncation and robustness to invalid UTF-8.
import XCTest
@testable import TextModel

final class TokenizerTests: XCTestCase {

    private func tokenizer(lowercase: Bool = true, replaceURLs: Bool = true, maxLength: Int = 128) -> Tokenizer {
        makeTokenizer(lowercase: lowercase, replaceURLs: replaceURLs, maxLength: maxLength)
    }

    /// Compares token lists by their exact scalars (String == would accept canonically
    /// equivalent spellings).
    private func assertTokens(_ text: String, _ expected: [String], _ t: Tokenizer? = nil,
                              file: StaticString = #filePath, line: UInt = #line) {
        let tokens = (t ?? tokenizer()).tokenize(text)
        XCTAssertEqual(tokens.map { Array($0.unicodeScalars) }, expected.map { Array($0.unicodeScalars) },
                       "tokenize(\(text.debugDescription)) = \(tokens)", file: file, line: line)
    }

    func testDefaultsComeFromConfig() {
        let t = Tokenizer(Config.Tokenizer())
        XCTAssertTrue(t.lowercase)
        XCTAssertTrue(t.replaceURLs)
        XCTAssertEqual(t.maxLength, 128)
    }

    func testLowercasingIncludingNonASCII() {
        assertTokens("ÉCOLE", ["école"])
        assertTokens("Hello WORLD", ["hello", "world"])
        assertTokens("ÀÖÜ ИВАН ÆØÅ", ["àöü", "иван", "æøå"])
        assertTokens("ÉCOLE Abc", ["ÉCOLE", "Abc"], tokenizer(lowercase: false))
    }

    /// The tokenizer's own lower-casing gives the scalars of String.lowercased(): final
    /// sigma, İ (one scalar, two in lower case), ẞ, the Kelvin sign, title case ǅ,
    /// combining marks, emoji with joiners, Cyrillic, Armenian ligature, mixed ASCII.
    func testLowercasedScalarsEqualStringLowercased() {
        let texts = ["ΟΔΟΣ ΣΊΣΥΦΟΣ", "İSTANBUL İi", "STRAẞE", "\u{212A}elvin", "ǅungla Ǆǆǅ", "Cafe\u{0301} E\u{0301}TE\u{0301}",
                     "👩‍👩‍👧 LOVE ❤️ it", "ПРИВЕТ Мир", "\u{FB13}", "ABC xyz 123 _' @#", "", "\u{10400}\u{1E900}",
                     "Ⅻ ⓐⒶ ＡＢＣ"]
        for text in texts {
            XCTAssertEqual(Tokenizer.lowercasedScalars(text), Array(text.lowercased().unicodeScalars), text)
        }
    }

    func testWhitespaceVariantsSeparateWords() {
        assertTokens("a b\tc\nd\r\ne", ["a", "b", "c", "d", "e"])
        // No-break space, ideographic space, zero-width space, NEL, ASCII controls.
        assertTokens("a\u{00A0}b\u{3000}c\u{200B}d\u{0085}e\u{0}f\u{7}g", ["a", "b", "c", "d", "e", "f", "g"])
        assertTokens("", [])
        assertTokens("   \t\n ", [])
    }

    func testPunctuationIsSplitOff() {
        assertTokens("Hello, world! (Really?)", ["hello", ",", "world", "!", "(", "really", "?", ")"])
        assertTokens("e-mail", ["e", "-", "mail"])
        assertTokens("a--b...", ["a", "-", "-", "b", ".", ".", "."])
        assertTokens("3.14", ["3", ".", "14"])
        assertTokens("snake_case abc123", ["snake_case", "abc123"])
        assertTokens("«quote» ¿qué?", ["«", "quote", "»", "¿", "qué", "?"])
    }

    func testApostrophes() {
        assertTokens("don't", ["don't"])
        assertTokens("Don\u{2019}t", ["don\u{2019}t"])
        assertTokens("rock'n'roll", ["rock'n'roll"])
        assertTokens("l'école", ["l'école"])
        assertTokens("'quoted'", ["'", "quoted", "'"])
        assertTokens("dogs' toys", ["dogs", "'", "toys"])
        assertTokens("it''s", ["it", "'", "'", "s"])
    }

    func testURLsBecomeOneToken() {
        assertTokens("see https://example.com/a?b=1&c=d and www.test.org now",
                     ["see", "<url>", "and", "<url>", "now"])
        assertTokens("http://x.y", ["<url>"])
        assertTokens("HTTP://EXAMPLE.COM/Path", ["<url>"], tokenizer(lowercase: false))
        assertTokens("Www.Example.com", ["<url>"], tokenizer(lowercase: false))
        // Not URLs: an incomplete scheme, and a scheme inside a word.
        assertTokens("http: no", ["http", ":", "no"])
        assertTokens("xhttp://a", ["xhttp", ":", "/", "/", "a"])
        // Turned off: the URL is split like any other text.
        assertTokens("http://a.b", ["http", ":", "/", "/", "a", ".", "b"], tokenizer(replaceURLs: false))
    }

    func testEmojiAreTokens() {
        assertTokens("good 👍 day😀😀", ["good", "👍", "day", "😀", "😀"])
        // Variation selectors and zero-width joiners carry no meaning alone.
        assertTokens("I ❤️ it", ["i", "❤", "it"])
        let family = tokenizer().tokenize("👩\u{200D}💻")
        XCTAssertFalse(family.isEmpty)
        XCTAssertFalse(family.contains { $0.unicodeScalars.contains("\u{200D}") })
        XCTAssertFalse(family.contains { $0.isEmpty })
    }

    func testMarksAndOtherScriptsStayInWords() {
        assertTokens("cafe\u{0301}s", ["cafe\u{0301}s"])      // combining acute accent
        assertTokens("中文 テスト", ["中文", "テスト"])
        assertTokens("مرحبا بالعالم", ["مرحبا", "بالعالم"])
        assertTokens("x²", ["x²"])                            // other number
    }

    func testMaxLengthTruncates() {
        assertTokens("one two three four five", ["one", "two", "three"], tokenizer(maxLength: 3))
        assertTokens("a,b,c,d", ["a", ",", "b"], tokenizer(maxLength: 3))
        assertTokens("hello world", ["hello"], tokenizer(maxLength: 1))
        assertTokens("hello", ["hello"], tokenizer(maxLength: 1))
        assertTokens("https://x.com y z", ["<url>"], tokenizer(maxLength: 1))
        assertTokens("a b c", ["a", "b", "c"], tokenizer(maxLength: 3))
        let long = Array(repeating: "word", count: 10_000).joined(separator: " ")
        XCTAssertEqual(tokenizer().tokenize(long).count, 128)
        XCTAssertEqual(tokenizer(maxLength: 5000).tokenize(long + "!").count, 5000)
    }

    func testInvalidUTF8DoesNotCrash() {
        let text = String(decoding: [0x61, 0xFF, 0x62, 0xC3, 0x20, 0xE2, 0x82, 0x63, 0xED, 0xA0, 0x80] as [UInt8], as: UTF8.self)
        let tokens = tokenizer().tokenize(text)
        XCTAssertFalse(tokens.isEmpty)
        XCTAssertEqual(tokens.first, "a")
        XCTAssertTrue(tokens.contains("\u{FFFD}"))
        XCTAssertTrue(tokens.contains("b"))
        // Lone surrogates and other odd scalars in a Swift string are impossible, but
        // private-use and unassigned code points are not: they must not crash either.
        _ = tokenizer().tokenize("\u{E000}\u{10FFFF}\u{FFFE}a")
    }

    func testSameTextSameTokens() {
        let t = tokenizer()
        let text = "The QUICK brown fox — jumps over https://lazy.dog 🐕!"
        XCTAssertEqual(t.tokenize(text), t.tokenize(text))
        XCTAssertEqual(t.tokenize(text), ["the", "quick", "brown", "fox", "—", "jumps", "over", "<url>", "🐕", "!"])
    }
}
