// Vocabulary: special ids, min_freq, max_size, deterministic ordering, unknown words,
// and restoring a saved token list.
import XCTest
@testable import TextModel

final class VocabularyTests: XCTestCase {

    func testSpecialTokensComeFirst() {
        let v = Vocabulary.build(from: [["x"]], minFreq: 1, maxSize: 100)
        XCTAssertEqual(v.tokens, ["<pad>", "<unk>", "x"])
        XCTAssertEqual(Vocabulary.paddingID, 0)
        XCTAssertEqual(Vocabulary.unknownID, 1)
        XCTAssertEqual(v.id(of: "<pad>"), 0)
        XCTAssertEqual(v.id(of: "<unk>"), 1)
        let empty = Vocabulary.build(from: [], minFreq: 1, maxSize: 100)
        XCTAssertEqual(empty.tokens, ["<pad>", "<unk>"])
    }

    func testMostFrequentFirst() {
        // Counts: a 3, c 2, b 1, d 1.
        let texts = [["b", "a", "c", "a"], ["c", "a", "d"]]
        let v = Vocabulary.build(from: texts, minFreq: 1, maxSize: 100)
        XCTAssertEqual(v.tokens, ["<pad>", "<unk>", "a", "c", "b", "d"])
        XCTAssertEqual(v.count, 6)
        XCTAssertEqual(v.encode(["a", "d", "zzz", "c", ""]), [2, 5, 1, 3, 1])
    }

    func testMinFreq() {
        let texts = [["b", "a", "c", "a"], ["c", "a", "d"]]
        XCTAssertEqual(Vocabulary.build(from: texts, minFreq: 2, maxSize: 100).tokens, ["<pad>", "<unk>", "a", "c"])
        XCTAssertEqual(Vocabulary.build(from: texts, minFreq: 3, maxSize: 100).tokens, ["<pad>", "<unk>", "a"])
        XCTAssertEqual(Vocabulary.build(from: texts, minFreq: 4, maxSize: 100).tokens, ["<pad>", "<unk>"])
        let v = Vocabulary.build(from: texts, minFreq: 2, maxSize: 100)
        XCTAssertEqual(v.id(of: "b"), Vocabulary.unknownID)
        XCTAssertEqual(v.id(of: "d"), Vocabulary.unknownID)
    }

    func testMaxSizeCountsTheSpecialTokens() {
        let texts = [["b", "a", "c", "a"], ["c", "a", "d"]]
        XCTAssertEqual(Vocabulary.build(from: texts, minFreq: 1, maxSize: 4).tokens, ["<pad>", "<unk>", "a", "c"])
        XCTAssertEqual(Vocabulary.build(from: texts, minFreq: 1, maxSize: 3).tokens, ["<pad>", "<unk>", "a"])
        XCTAssertEqual(Vocabulary.build(from: texts, minFreq: 1, maxSize: 5).count, 5)
        // Ties at the cut are decided by bytes too: b (0x62) before d (0x64).
        XCTAssertEqual(Vocabulary.build(from: texts, minFreq: 1, maxSize: 5).tokens.last, "b")
    }

    func testTiesAreBrokenByBytesWhateverTheInputOrder() {
        let words = ["b", "B", "a", "é", "Z", "ab", "\u{1F600}", "z"]
        // Every word once, so every pair is a tie; UTF-8 byte order decides.
        let expected = ["<pad>", "<unk>", "B", "Z", "a", "ab", "b", "z", "é", "\u{1F600}"]
        var rng = SeededGenerator(seed: 9)
        for _ in 0..<20 {
            var shuffled = words
            rng.shuffle(&shuffled)
            // Also vary how the words are spread over texts.
            let cut = Int(rng.next() % UInt64(shuffled.count + 1))
            let texts = [Array(shuffled[..<cut]), Array(shuffled[cut...])]
            let v = Vocabulary.build(from: texts, minFreq: 1, maxSize: 1000)
            XCTAssertEqual(v.tokens.map { Array($0.utf8) }, expected.map { Array($0.utf8) })
        }
    }

    func testSpecialTokensInTextAreNotDuplicated() {
        let v = Vocabulary.build(from: [["<pad>", "<unk>", "<unk>", "x", "<url>"]], minFreq: 1, maxSize: 100)
        XCTAssertEqual(v.tokens, ["<pad>", "<unk>", "<url>", "x"])
        XCTAssertEqual(Set(v.tokens).count, v.tokens.count)
    }

    func testEveryIdRoundTrips() {
        let texts = [["the", "cat", "sat"], ["on", "the", "mat"], ["the", "end"]]
        let v = Vocabulary.build(from: texts, minFreq: 1, maxSize: 100)
        for (i, t) in v.tokens.enumerated() { XCTAssertEqual(v.id(of: t), Int32(i)) }
        XCTAssertEqual(v.encode([]), [])
    }

    func testRestoreFromTokenList() throws {
        let v = try Vocabulary(tokens: ["<pad>", "<unk>", "hello", "world"])
        XCTAssertEqual(v.encode(["world", "hello", "nope"]), [3, 2, 1])
        let built = Vocabulary.build(from: [["q", "r", "q"]], minFreq: 1, maxSize: 10)
        let restored = try Vocabulary(tokens: built.tokens)
        XCTAssertEqual(restored.tokens, built.tokens)
        XCTAssertEqual(restored.encode(["r", "q", "s"]), built.encode(["r", "q", "s"]))
    }

    func testRestoreRejectsBadTokenLists() {
        assertThrowsTextModelError(.modelFormat) { try Vocabulary(tokens: []) }
        assertThrowsTextModelError(.modelFormat) { try Vocabulary(tokens: ["<pad>"]) }
        assertThrowsTextModelError(.modelFormat) { try Vocabulary(tokens: ["<unk>", "<pad>", "a"]) }
        assertThrowsTextModelError(.modelFormat) { try Vocabulary(tokens: ["a", "<pad>", "<unk>"]) }
        assertThrowsTextModelError(.modelFormat, mentioning: ["\"a\""]) { try Vocabulary(tokens: ["<pad>", "<unk>", "a", "b", "a"]) }
        assertThrowsTextModelError(.modelFormat) { try Vocabulary(tokens: ["<pad>", "<unk>", "<unk>"]) }
    }
}
