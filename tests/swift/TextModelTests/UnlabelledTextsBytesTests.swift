// UnlabelledTexts.readUTF8: the texts a command-line explain reads, as bytes, so its byte
// offsets point into the input line even when the line is not valid UTF-8.
import XCTest
@testable import TextModel

final class UnlabelledTextsBytesTests: XCTestCase {
    func testLinesKeepTheirBytesAfterTheirLabels() throws {
        let dir = ScratchDirectory()
        let lines: [UInt8] = Array("__label__a caf\u{e9} \u{1F622}\n".utf8) + [0x6F, 0xFF, 0xFE, 0x6B, 0x0A] + Array("\nplain\n".utf8)
        writeBytes(dir.file("t.txt"), lines)
        let texts = try UnlabelledTexts.readUTF8(path: dir.file("t.txt"), config: Config.Data())
        XCTAssertEqual(texts, [Array("caf\u{e9} \u{1F622}".utf8), [0x6F, 0xFF, 0xFE, 0x6B], [], Array("plain".utf8)])
        // read decodes the same texts (invalid bytes as U+FFFD), row for row.
        let decoded = try UnlabelledTexts.read(path: dir.file("t.txt"), config: Config.Data())
        XCTAssertEqual(decoded, texts.map { String(decoding: $0, as: UTF8.self) })
    }

    func testCSVAndJSONLinesGiveTheirDecodedTextsBytes() throws {
        let dir = ScratchDirectory()
        writeText(dir.file("t.csv"), "id,text\n1,\"a, \u{e9}\"\n2,\n")
        XCTAssertEqual(try UnlabelledTexts.readUTF8(path: dir.file("t.csv"), config: Config.Data()), [Array("a, \u{e9}".utf8), []])
        writeText(dir.file("t.jsonl"), "{\"text\": \"tab\\there \\u00e9\"}\n{\"label\": 1}\n")
        XCTAssertEqual(try UnlabelledTexts.readUTF8(path: dir.file("t.jsonl"), config: Config.Data()), [Array("tab\there \u{e9}".utf8), []])
    }
}
