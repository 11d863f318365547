// The byte path of tokenising and encoding (Tokenizer.tokenize(_:into:), TokenTable,
// Vocabulary.id(of:hash:), NGramHasher on a TokenBuffer) against the String path it
// replaced: same tokens, same vocabulary, same feature ids, on random and real texts.
import XCTest
@testable import TextModel

final class TokenizerBytesTests: XCTestCase {

    private func tokenizer(lowercase: Bool = true, replaceURLs: Bool = true, maxLength: Int = 128) -> Tokenizer {
        makeTokenizer(lowercase: lowercase, replaceURLs: replaceURLs, maxLength: maxLength)
    }

    private func byteTokens(_ t: Tokenizer, _ text: String) -> [[UInt8]] {
        var buffer = TokenBuffer()
        t.tokenize(text, into: &buffer)
        return (0..<buffer.count).map { buffer.withToken($0) { Array($0) } }
    }

    /// Random texts from pieces that exercise every rule: separators, URL prefixes in
    /// any case, words, apostrophes inside and at the ends of words, punctuation, DEL,
    /// and (for the non-ASCII cases) accents, emoji, joiners and a decomposed "é".
    private func randomText(_ rng: inout SeededGenerator, ascii: Bool) -> String {
        var pieces = [" ", "  ", "\t", "\n", "\r\n", "\u{7F}", "\u{1}", "a", "Bc", "hello", "WORLD", "x_y", "42",
                      "'", "don't", "it's'", "'quote'", "!", "?!", ".", ",", "#tag", "@user", "http://x.co/a?b=c",
                      "HTTPS://Example.com", "www.site.org", "Www.", "http:/", "htt", "w", "a'b'c", "$", "~", "\\", "\""]
        if !ascii { pieces += ["é", "e\u{301}", "École", "🐕", "👩\u{200D}💻", "—", "ИВАН", "\u{00A0}", "日本語", "Ω"] }
        var s = ""
        for _ in 0..<Int(rng.next() % 30) { s += pieces[Int(rng.next() % UInt64(pieces.count))] }
        return s
    }

    func testASCIIFastPathGivesTheTokensOfTokenize() {
        var rng = SeededGenerator(seed: 11)
        for round in 0..<4000 {
            let text = randomText(&rng, ascii: round % 4 != 0)
            for (lowercase, urls, maxLength) in [(true, true, 128), (false, true, 128), (true, false, 128), (true, true, 3), (false, false, 1)] {
                let t = tokenizer(lowercase: lowercase, replaceURLs: urls, maxLength: maxLength)
                XCTAssertEqual(byteTokens(t, text), t.tokenize(text).map { Array($0.utf8) },
                               "text \(text.debugDescription), lowercase \(lowercase), urls \(urls), max \(maxLength)")
            }
        }
    }

    /// The UTF-8 entry (a C text's bytes, valid or not) against `tokenize(_:)` of the
    /// String it decodes to, with every token's hash.
    private func assertUTF8EntryMatchesTokenize(_ t: Tokenizer, _ bytes: [UInt8], _ what: String) {
        var buffer = TokenBuffer()
        bytes.withUnsafeBufferPointer { t.tokenize(utf8: $0, into: &buffer) }
        let expected = t.tokenize(String(decoding: bytes, as: UTF8.self)).map { Array($0.utf8) }
        XCTAssertEqual((0..<buffer.count).map { buffer.withToken($0) { Array($0) } }, expected, what)
        XCTAssertEqual(buffer.hashes, (0..<buffer.count).map { buffer.withToken($0) { NGramHasher.fnv1a($0) } }, what)
    }

    func testNonASCIIBytePathGivesTheTokensOfTokenizeOnEdgeTexts() {
        let texts: [[UInt8]] = [
            [], [0xFF], [0x80, 0x61], [0xC3], [0x61, 0xC3, 0x28, 0x62], [0xE2, 0x82], [0xE2, 0x82, 0x61],
            [0xF0, 0x9F, 0x98], [0xF0, 0x9F, 0x98, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0xF4, 0x90, 0x80, 0x80],
            [0x68, 0x74, 0x74, 0x70, 0x3A, 0x2F, 0x2F, 0xFF, 0x2E, 0x63], Array("caf\u{E9} \u{301}x İstanbul ǅ ß ﬁ ΣΑΣ".utf8),
            Array("ÉMOJI 🎉 and ünïcode ÇA 👩\u{200D}💻 x\u{FE0F}y".utf8), Array("don’t ’quote’ it’".utf8),
            Array("HTTPS://Ünï.com/é www.é.fr wWw.x\u{A0}y".utf8), Array("\u{200B}a\u{200D}b\u{2028}c\u{85}d\u{3000}e".utf8),
            Array(String(repeating: "Ünï ", count: 700).utf8) + [0xFF],
        ]
        for (lowercase, urls, maxLength) in [(true, true, 1024), (false, true, 1024), (true, false, 1024), (true, true, 3), (false, false, 1)] {
            let t = tokenizer(lowercase: lowercase, replaceURLs: urls, maxLength: maxLength)
            for text in texts {
                assertUTF8EntryMatchesTokenize(t, text, "bytes \(text.prefix(40)), lowercase \(lowercase), urls \(urls), max \(maxLength)")
            }
        }
    }

    func testNonASCIIBytePathGivesTheTokensOfTokenizeOnRandomBytes() {
        var rng = SeededGenerator(seed: 13)
        let t = tokenizer(maxLength: 1024)
        for _ in 0..<3000 {
            // Random pieces, some cut mid-sequence, some bytes random: valid and invalid UTF-8.
            var bytes = [UInt8]()
            for _ in 0..<Int(rng.next() % 12) {
                var piece = Array(randomText(&rng, ascii: false).utf8)
                if rng.next() % 4 == 0, !piece.isEmpty { piece.removeLast(Int(rng.next() % UInt64(piece.count))) }
                if rng.next() % 6 == 0 { piece.append(UInt8(truncatingIfNeeded: rng.next())) }
                bytes += piece
            }
            assertUTF8EntryMatchesTokenize(t, bytes, "bytes \(bytes)")
        }
    }

    func testScalarsThatDoNotChangeWhenLowercasedAreTheirOwnLowercaseMapping() {
        // Tokenizer.decode takes a scalar as its own lower case when this property says
        // so; lowercased() takes lowercaseMapping. Every scalar, to be sure they agree.
        var checked = 0
        for v in UInt32(0x80)...0x10FFFF {
            guard let s = Unicode.Scalar(v), !s.properties.changesWhenLowercased else { continue }
            XCTAssertEqual(Array(s.properties.lowercaseMapping.unicodeScalars), [s], "U+\(String(v, radix: 16))")
            checked += 1
        }
        XCTAssertGreaterThan(checked, 1_000_000)
    }

    func testASCIIFastPathHashesAreFNV1aOfItsTokenBytes() {
        var rng = SeededGenerator(seed: 12)
        for _ in 0..<1000 {
            let text = randomText(&rng, ascii: true)
            for t in [tokenizer(), tokenizer(lowercase: false, replaceURLs: false, maxLength: 5)] {
                var buffer = TokenBuffer()
                t.tokenize(text, into: &buffer)
                XCTAssertEqual(buffer.hashes.count, buffer.count)
                for i in 0..<buffer.count {
                    XCTAssertEqual(buffer.hashes[i], buffer.withToken(i) { NGramHasher.fnv1a($0) }, "\(text.debugDescription) token \(i)")
                }
                // A second text into the same buffer: nothing of the first is left.
                t.tokenize("Hi there", into: &buffer)
                XCTAssertEqual((0..<buffer.count).map { buffer.string($0) }, t.lowercase ? ["hi", "there"] : ["Hi", "there"])
            }
        }
    }

    func testBufferHashesAreFNV1aOfTheTokenBytes() {
        var buffer = TokenBuffer()
        tokenizer().tokenize("Hello, wörld http://x.y", into: &buffer)
        XCTAssertEqual((0..<buffer.count).map { buffer.string($0) }, ["hello", ",", "wörld", "<url>"])
        for i in 0..<buffer.count { XCTAssertEqual(buffer.hashes[i], NGramHasher.fnv1a(buffer.string(i).utf8)) }
    }

    func testTokenTableNumbersKeysInInsertionOrderAndGrows() {
        var table = TokenTable()
        let keys = (0..<5000).map { "k\($0)" } + ["", "é", "e\u{301}"]
        for (i, k) in keys.enumerated() { XCTAssertEqual(table.insert(k), i) }
        for (i, k) in keys.enumerated() {
            XCTAssertEqual(table.insert(k), i, "a second insert finds the first")
            var key = k
            XCTAssertEqual(key.withUTF8 { table.index(of: $0, hash: NGramHasher.fnv1a($0)) }, i)
            XCTAssertEqual(table.string(i), k)
        }
        XCTAssertEqual(table.count, keys.count, "bytes, not canonical equivalence: é and e+◌́ are two keys")
        var missing = "absent"
        XCTAssertNil(missing.withUTF8 { table.index(of: $0, hash: NGramHasher.fnv1a($0)) })
    }

    func testVocabularyFromTextsMatchesVocabularyFromTokensForAnyThreadCount() {
        var rng = SeededGenerator(seed: 5)
        let texts = (0..<3000).map { i in randomText(&rng, ascii: i % 3 != 0) } + ["café", "cafe\u{301}", "CAFÉ"]
        let t = tokenizer()
        let expected = Vocabulary.build(from: texts.map(t.tokenize), minFreq: 2, maxSize: 100_000)
        for threads in [1, 3] {
            let built = Vocabulary.build(texts: texts, tokenizer: t, threads: threads, minFreq: 2, maxSize: 100_000)
            XCTAssertEqual(built.tokens.map { Array($0.utf8) }, expected.tokens.map { Array($0.utf8) }, "threads \(threads)")
        }
        XCTAssertEqual(expected.id(of: "café"), expected.id(of: "cafe\u{301}"), "canonically equal spellings share an entry")
    }

    func testByteLookupFollowsStringLookup() throws {
        let vocabulary = try Vocabulary(tokens: ["<pad>", "<unk>", "café", "dog", ";"])
        let asciiOnly = try Vocabulary(tokens: ["<pad>", "<unk>", "dog"])
        // All in NFC (a token the table lacks is unknown if NFC too), and not (the
        // String lookup decides): a decomposed é, a Kelvin sign, an Angstrom sign.
        let nfc = try Vocabulary(tokens: ["<pad>", "<unk>", "Ångström", "непредсказуемость", "가", "e"])
        let notNFC = try Vocabulary(tokens: ["<pad>", "<unk>", "cafe\u{301}", "\u{212B}ngström", "\u{212A}", "\u{1100}\u{1161}"])
        for v in [vocabulary, asciiOnly, nfc, notNFC] {
            for token in ["café", "cafe\u{301}", "dog", "cat", ";", "\u{37E}", "", "<unk>", "<pad>",
                          "Ångström", "A\u{30A}ngstro\u{308}m", "\u{212B}ngström", "непредсказуемость", "непредсказуемостью",
                          "K", "\u{212A}", "가", "\u{1100}\u{1161}", "e\u{301}", "e"] {
                var bytes = token
                let byID = bytes.withUTF8 { v.id(of: $0, hash: NGramHasher.fnv1a($0)) }
                XCTAssertEqual(byID, v.id(of: token), "token \(token.debugDescription)")
            }
        }
    }

    func testEncoderMatchesTheStringEncoderOnRandomAndBundledTexts() throws {
        var rng = SeededGenerator(seed: 9)
        var texts = (0..<1500).map { i in randomText(&rng, ascii: i % 3 != 0) }
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        parts.removeLast(4)   // tests/swift/TextModelTests/TokenizerBytesTests.swift
        texts += try LabelledTexts.read(path: (parts + ["data", "support", "train.csv"]).joined(separator: "/"),
                                        config: Config.Data()).texts
        for (order, charMin, charMax, minFreq) in [(2, 3, 5, 1), (3, 1, 2, 2), (1, 0, 0, 2), (2, 1, 1, 1), (4, 2, 6, 1)] {
            var config = Config(modelType: .bag).tokenizer
            config.buckets = 5003
            config.wordNgrams = order
            config.charNgramsMin = charMin
            config.charNgramsMax = charMax
            let t = Tokenizer(config)
            let vocabulary = Vocabulary.build(texts: texts, tokenizer: t, threads: 2, minFreq: minFreq, maxSize: 100_000)
            let encoder = FeatureEncoder(config: config, vocabulary: vocabulary)
            let reference = StringEncoder(tokenizer: t, vocabulary: vocabulary, order: order, buckets: 5003, charMin: charMin, charMax: charMax)
            for text in texts { XCTAssertEqual(encoder.encode(text), reference.encode(text), "text \(text.debugDescription)") }
            let flat = encoder.encode(texts, threads: 3)
            for (i, text) in texts.enumerated() { XCTAssertEqual(Array(flat[i]), reference.encode(text)) }
            // The training path: lengths counted beforehand, ids written in place.
            let hasher = NGramHasher(config: config)
            var buffer = TokenBuffer()
            let lengths = texts.map { text in
                t.tokenize(text, into: &buffer)
                return FeatureEncoder.encodedLength(buffer, hasher: hasher)
            }
            XCTAssertEqual(lengths, texts.map { reference.encode($0).count }, "order \(order), characters \(charMin)-\(charMax)")
            for threads in [1, 3] {
                var consumed = texts
                XCTAssertEqual(encoder.encode(consuming: &consumed, lengths: lengths, threads: threads), flat)
                XCTAssertTrue(consumed.isEmpty)
            }
        }
    }
}

/// The String-based encoder of libtextmodel 0.2.0 (one String per token, the vocabulary
/// dictionary, n-grams hashed from each String's bytes and scalars), kept as the oracle
/// the byte path must match.
private struct StringEncoder {
    let tokenizer: Tokenizer
    let vocabulary: Vocabulary
    let order, buckets, charMin, charMax: Int

    func encode(_ text: String) -> [Int32] {
        let tokens = tokenizer.tokenize(text)
        let base = vocabulary.count
        var out = tokens.map { vocabulary.id(of: $0) }
        if order >= 2 && tokens.count >= 2 {
            let hashes = tokens.map { NGramHasher.fnv1a($0.utf8) }
            for start in 0..<(tokens.count - 1) {
                var h = hashes[start]
                for n in 2...order where start + n - 1 < tokens.count {
                    h = (h ^ 0x20) &* 0x100_0000_01B3
                    h = (h ^ hashes[start + n - 1]) &* 0x100_0000_01B3
                    out.append(Int32(base + Int(h % UInt64(buckets))))
                }
            }
        }
        guard charMax > 0, charMin >= 1 else { return out }
        for token in tokens {
            let scalars = ["<"] + Array(token.unicodeScalars).map { String($0) } + [">"]
            for start in 0..<scalars.count {
                var h: UInt64 = 0xCBF2_9CE4_8422_2325
                for n in 1...charMax where start + n <= scalars.count {
                    let end = start + n
                    for b in scalars[end - 1].utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
                    if n >= charMin && !(n == 1 && (start == 0 || end == scalars.count)) {
                        out.append(Int32(base + Int(h % UInt64(buckets))))
                    }
                }
            }
        }
        return out
    }
}
