// CSV reader (RFC 4180): quoting, line ends, BOM, column selection, skipped rows, and
// errors that name the line.
import XCTest
@testable import TextModel

final class CSVReaderTests: XCTestCase {

    private func read(_ csv: String, text: String = "text", label: String = "label") throws -> LabelledTexts {
        try CSVReader.read(Array(csv.utf8), source: "data.csv", textColumn: text, labelColumn: label)
    }

    private func readBytes(_ bytes: [UInt8], text: String = "text", label: String = "label") throws -> LabelledTexts {
        try CSVReader.read(bytes, source: "data.csv", textColumn: text, labelColumn: label)
    }

    /// Compares texts scalar by scalar, so "\r\n" and "\n" are not confused.
    private func assertTexts(_ data: LabelledTexts, _ expected: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(data.texts.map { Array($0.unicodeScalars) }, expected.map { Array($0.unicodeScalars) },
                       "\(data.texts.map(\.debugDescription))", file: file, line: line)
    }

    func testSimpleFile() throws {
        let d = try read("label,text\npos,good movie\nneg,bad movie\n")
        XCTAssertEqual(d.labels, ["pos", "neg"])
        assertTexts(d, ["good movie", "bad movie"])
        XCTAssertEqual(d.count, 2)
        XCTAssertEqual(d.skipped, 0)
    }

    func testQuotedFieldsWithCommasAndDoubledQuotes() throws {
        let d = try read("label,text\npos,\"a, b, c\"\nneg,\"he said \"\"hi\"\"\"\n\"x,y\",\"\"\"\"\n")
        XCTAssertEqual(d.labels, ["pos", "neg", "x,y"])
        assertTexts(d, ["a, b, c", "he said \"hi\"", "\""])
    }

    func testLineBreaksInsideQuotes() throws {
        let d = try read("label,text\r\npos,\"line one\r\nline two\"\r\nneg,\"a\nb\"\r\nmid,\"bare\rcr\"\r\n")
        XCTAssertEqual(d.labels, ["pos", "neg", "mid"])
        assertTexts(d, ["line one\r\nline two", "a\nb", "bare\rcr"])
    }

    func testRecordEnds() throws {
        for end in ["\n", "\r\n", "\r"] {
            let csv = ["label,text", "a,one", "b,two", "c,three"].joined(separator: end)
            for trailing in ["", end] {
                let d = try read(csv + trailing)
                XCTAssertEqual(d.labels, ["a", "b", "c"], end.debugDescription)
                assertTexts(d, ["one", "two", "three"])
            }
        }
        // Mixed line ends in one file.
        let d = try read("label,text\na,one\r\nb,two\rc,three")
        XCTAssertEqual(d.labels, ["a", "b", "c"])
    }

    func testByteOrderMark() throws {
        let d = try readBytes([0xEF, 0xBB, 0xBF] + Array("label,text\npos,hi\n".utf8))
        XCTAssertEqual(d.labels, ["pos"])
        assertTexts(d, ["hi"])
        // A BOM in the middle of a file is content, not a marker.
        let e = try readBytes(Array("label,text\npos,".utf8) + [0xEF, 0xBB, 0xBF] + Array("hi\n".utf8))
        assertTexts(e, ["\u{FEFF}hi"])
    }

    func testConfigurableColumnsAndOrder() throws {
        let csv = "id,body,y,extra\n1,first text,A,z\n2,\"second, text\",B,z\n"
        let d = try read(csv, text: "body", label: "y")
        XCTAssertEqual(d.labels, ["A", "B"])
        assertTexts(d, ["first text", "second, text"])
        // Text column before the label column.
        let e = try read("text,label\nhello there,pos\n")
        XCTAssertEqual(e.labels, ["pos"])
        assertTexts(e, ["hello there"])
        // Quoted header names.
        let f = try read("\"label\",\"text\"\npos,x\n")
        XCTAssertEqual(f.labels, ["pos"])
    }

    func testBlankLinesAreSkipped() throws {
        let d = try read("\n\nlabel,text\n\npos,one\n\n\r\n\rneg,two\n\n\n")
        XCTAssertEqual(d.labels, ["pos", "neg"])
        assertTexts(d, ["one", "two"])
        XCTAssertEqual(d.skipped, 0)
    }

    func testEmptyTextAndMissingLabelAreCountedAsSkipped() throws {
        let csv = "label,text\npos,fine\npos,\nneg,\"\"\nneg,\"   \"\n,no label\n\"\",also none\nneg,\t\nok,kept\n"
        let d = try read(csv)
        XCTAssertEqual(d.labels, ["pos", "ok"])
        assertTexts(d, ["fine", "kept"])
        XCTAssertEqual(d.skippedEmptyText, 4)
        XCTAssertEqual(d.skippedMissingLabel, 2)
        XCTAssertEqual(d.skipped, 6)
    }

    func testInvalidUTF8BecomesReplacementCharacter() throws {
        let d = try readBytes(Array("label,text\npos,a".utf8) + [0xFF, 0xC3] + Array("b\n".utf8))
        XCTAssertEqual(d.labels, ["pos"])
        XCTAssertTrue(d.texts[0].unicodeScalars.contains("\u{FFFD}"))
        XCTAssertTrue(d.texts[0].hasPrefix("a"))
        XCTAssertTrue(d.texts[0].hasSuffix("b"))
    }

    func testTextAfterClosingQuoteIsKept() throws {
        let d = try read("label,text\npos,\"abc\"def\n")
        assertTexts(d, ["abcdef"])
    }

    // MARK: errors

    func testUnbalancedQuoteNamesTheLine() {
        assertThrowsTextModelError(.data, mentioning: ["data.csv:3", "never closed"]) {
            try read("label,text\npos,ok\nneg,\"unclosed\nmore text\nneg,x\n")
        }
        assertThrowsTextModelError(.data, mentioning: ["data.csv:2"]) { try read("label,text\npos,\"") }
    }

    func testRaggedRowsNameTheLine() {
        assertThrowsTextModelError(.data, mentioning: ["data.csv:3", "3 fields", "header has 2"]) {
            try read("label,text\npos,ok\nneg,one,two\n")
        }
        assertThrowsTextModelError(.data, mentioning: ["data.csv:4", "1 field "]) {
            try read("label,text\npos,ok\n\nlonely\n")
        }
    }

    func testLineNumbersCountLineBreaksInsideQuotedFields() {
        // LF files: the quoted field spans lines 2-4, the bad row is on line 5.
        assertThrowsTextModelError(.data, mentioning: ["data.csv:5"]) {
            try read("label,text\npos,\"a\nb\nc\"\nneg,x,y\n")
        }
        // CRLF files.
        assertThrowsTextModelError(.data, mentioning: ["data.csv:5"]) {
            try read("label,text\r\npos,\"a\r\nb\r\nc\"\r\nneg,x,y\r\n")
        }
        // CR files: a bare CR ends a line there too, inside quotes as outside.
        assertThrowsTextModelError(.data, mentioning: ["data.csv:5"]) {
            try read("label,text\rpos,\"a\rb\rc\"\rneg,x,y\r")
        }
    }

    func testMissingColumns() {
        assertThrowsTextModelError(.data, mentioning: ["\"text\"", "\"label\"", "\"body\""]) {
            try read("label,body\npos,x\n")
        }
        assertThrowsTextModelError(.data, mentioning: ["\"label\""]) {
            try read("category,text\npos,x\n")
        }
        assertThrowsTextModelError(.data, mentioning: ["\"y\""]) {
            try read("label,text\npos,x\n", label: "y")
        }
    }

    func testEmptyFile() {
        assertThrowsTextModelError(.data, mentioning: ["data.csv", "empty"]) { try read("") }
        assertThrowsTextModelError(.data, mentioning: ["empty"]) { try readBytes([0xEF, 0xBB, 0xBF]) }
        assertThrowsTextModelError(.data, mentioning: ["empty"]) { try read("\n\r\n\n") }
    }

    func testHeaderOnlyGivesNoRows() throws {
        let d = try read("label,text\n")
        XCTAssertEqual(d.count, 0)
        XCTAssertEqual(d.skipped, 0)
    }

    // MARK: through files and the format switch

    func testReadingFromFiles() throws {
        let dir = ScratchDirectory()
        writeText(dir.file("train.csv"), "label,text\npos,hello\n")
        writeText(dir.file("train.txt"), "__label__pos hello\n__label__neg bye\n")
        writeText(dir.file("csv-content.txt"), "label,text\npos,hello\n")
        let csv = try LabelledTexts.read(path: dir.file("train.csv"), config: Config.Data())
        XCTAssertEqual(csv.labels, ["pos"])
        let ft = try LabelledTexts.read(path: dir.file("train.txt"), config: Config.Data())
        XCTAssertEqual(ft.labels, ["pos", "neg"])
        var forced = Config.Data()
        forced.format = .csv
        XCTAssertEqual(try LabelledTexts.read(path: dir.file("csv-content.txt"), config: forced).labels, ["pos"])
        forced.format = .fasttext
        let asFastText = try LabelledTexts.read(path: dir.file("train.csv"), config: forced)
        XCTAssertEqual(asFastText.count, 0)
        XCTAssertEqual(asFastText.skippedMissingLabel, 2)
        assertThrowsTextModelError(.io, mentioning: ["nope.csv"]) {
            try LabelledTexts.read(path: dir.file("nope.csv"), config: Config.Data())
        }
        assertThrowsTextModelError(.io, mentioning: ["directory"]) { try LabelledTexts.read(path: dir.path, config: Config.Data()) }
    }
}
