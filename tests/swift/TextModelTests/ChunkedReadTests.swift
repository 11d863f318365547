// Reading a labelled file a chunk at a time (ChunkedFile + the readers' Parser.consume)
// gives exactly what parsing the whole file's bytes gives, wherever the chunks cut:
// inside quoted fields, between CR and LF, inside a byte-order mark, a doubled quote
// or a UTF-8 sequence. Errors too, with the same message (and so the same line).
import XCTest
@testable import TextModel

final class ChunkedReadTests: XCTestCase {

    private enum Outcome: Equatable {
        case rows([String], [String], Int, Int)
        case failure(String)
    }

    private func outcome(_ body: () throws -> LabelledTexts) -> Outcome {
        do {
            let d = try body()
            return .rows(d.texts, d.labels, d.skippedEmptyText, d.skippedMissingLabel)
        } catch let e as TextModelError {
            return .failure(e.message)
        } catch {
            return .failure("\(error)")
        }
    }

    private func assertChunkingChangesNothing(_ bytes: [UInt8], name: String, multiLabel: Bool = false,
                                              file: StaticString = #filePath, line: UInt = #line) {
        let dir = ScratchDirectory()
        let path = dir.file(name)
        writeBytes(path, bytes)
        let config = Config.Data()
        let whole = outcome { try LabelledTexts.parse(bytes, source: path, config: config, multiLabel: multiLabel) }
        for chunk in [1, 2, 3, 4, 5, 7, 11, 64, 8 << 20] {
            let chunked = outcome { try LabelledTexts.read(path: path, config: config, multiLabel: multiLabel, chunkBytes: chunk) }
            XCTAssertEqual(chunked, whole, "\(name), chunks of \(chunk): \(String(decoding: bytes, as: UTF8.self).debugDescription)",
                           file: file, line: line)
        }
    }

    private func random(_ pieces: [String], _ rng: inout SeededGenerator, count: Int) -> String {
        (0..<count).map { _ in pieces[Int(rng.next() % UInt64(pieces.count))] }.joined()
    }

    func testCSVChunksGiveTheWholeFilesRows() {
        var rng = SeededGenerator(seed: 3)
        let fields = ["a", "b c", "\"q\"", "\"x,y\"", "\"line\nbreak\"", "\"cr\r\nlf\"", "\"dq \"\"in\"\" it\"", "", "é🐕", "x\"y",
                      "\"open", "\"\"", "  "]
        let ends = ["\n", "\r\n", "\r", "\n\n", ""]
        for round in 0..<300 {
            var csv = round % 5 == 0 ? "\u{FEFF}" : ""
            csv += round % 7 == 0 ? "text,label" : "label,text"
            csv += ends[Int(rng.next() % 3)]
            for r in 0..<Int(rng.next() % 6) {
                let cells = round % 11 == 0 && r == 2 ? 3 : 2
                csv += (0..<cells).map { _ in fields[Int(rng.next() % UInt64(fields.count))] }.joined(separator: ",")
                csv += ends[Int(rng.next() % UInt64(ends.count))]
            }
            assertChunkingChangesNothing(Array(csv.utf8), name: "data.csv")
        }
        // Blank CRLF lines cut between CR and LF must count once (the error names line 6).
        assertChunkingChangesNothing(Array("label,text\n\r\n\r\n\r\na,b\r\na,b,c\n".utf8), name: "lines.csv")
        assertChunkingChangesNothing([], name: "empty.csv")
        assertChunkingChangesNothing(Array("label,text\r\n".utf8) + [0xFF, 0xC3] + Array(",x\r\n".utf8), name: "invalid.csv")
    }

    func testLineFormatChunksGiveTheWholeFilesRows() {
        var rng = SeededGenerator(seed: 4)
        let ft = ["__label__a ", "__label__b ", "__label__c __label__d ", "word ", "é ", "🐕", "\r", "\n", "\n", "  ", "\t"]
        let jsonl = [#"{"label":"a","text":"x"}"#, #"{"label":["a","b"],"text":"y z"}"#, #"{"text":"no label"}"#, "\n", "\n",
                     "\r\n", #"{"label":1,"text":"é"}"#, "  ", #"[1]"#, #"{"label":"a","text":"#]
        for round in 0..<300 {
            let bom = round % 5 == 0 ? "\u{FEFF}" : ""
            assertChunkingChangesNothing(Array((bom + random(ft, &rng, count: Int(rng.next() % 25))).utf8), name: "train.txt",
                                         multiLabel: round % 2 == 0)
            assertChunkingChangesNothing(Array((bom + random(jsonl, &rng, count: Int(rng.next() % 8))).utf8), name: "train.jsonl",
                                         multiLabel: round % 2 == 0)
        }
    }

    func testALongRecordGrowsTheChunk() throws {
        let dir = ScratchDirectory()
        let path = dir.file("long.csv")
        let long = String(repeating: "word ", count: 400_000)  // 2 MB, in chunks of 64 KB
        writeText(path, "label,text\na,\"\(long)\"\nb,short\n")
        let d = try LabelledTexts.read(path: path, config: Config.Data(), multiLabel: false, chunkBytes: 64 << 10)
        XCTAssertEqual(d.labels, ["a", "b"])
        XCTAssertEqual(d.texts[0].utf8.count, long.utf8.count)
    }
}
