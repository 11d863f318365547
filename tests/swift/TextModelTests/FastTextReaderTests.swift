// fastText supervised format: `__label__NAME text` lines.
import XCTest
@testable import TextModel

final class FastTextReaderTests: XCTestCase {

    private func read(_ text: String) throws -> LabelledTexts {
        try FastTextReader.read(Array(text.utf8), source: "train.txt")
    }

    func testLabelsAndTexts() throws {
        let d = try read("__label__pos good movie\n__label__neg  bad, bad movie \n__label__pos\tgreat\n")
        XCTAssertEqual(d.labels, ["pos", "neg", "pos"])
        XCTAssertEqual(d.texts.count, 3)
        XCTAssertEqual(d.texts[0], "good movie")
        XCTAssertTrue(d.texts[1].hasPrefix("bad, bad movie"))
        XCTAssertEqual(d.texts[2], "great")
        XCTAssertEqual(d.skipped, 0)
    }

    func testLabelNamesMayHoldAnyNonSpaceCharacters() throws {
        let d = try read("__label__sci-fi x\n__label__Ünïcödé y\n__label__a,b z")
        XCTAssertEqual(d.labels, ["sci-fi", "Ünïcödé", "a,b"])
    }

    func testMissingLabelIsCounted() throws {
        let d = try read("no label here\n__label__pos fine\nhello __label__neg\n")
        XCTAssertEqual(d.labels, ["pos"])
        XCTAssertEqual(d.texts, ["fine"])
        XCTAssertEqual(d.skippedMissingLabel, 2)
        XCTAssertEqual(d.skippedEmptyText, 0)
    }

    func testEmptyLabelNameCountsAsMissing() throws {
        let d = try read("__label__ some text\n")
        XCTAssertEqual(d.count, 0)
        XCTAssertEqual(d.skippedMissingLabel, 1)
    }

    func testLabelWithoutTextCountsAsEmptyText() throws {
        let d = try read("__label__pos\n__label__neg   \n__label__pos ok\n")
        XCTAssertEqual(d.labels, ["pos"])
        XCTAssertEqual(d.skippedEmptyText, 2)
    }

    func testSeveralLabelsIsAnErrorNamingTheLine() {
        assertThrowsTextModelError(.data, mentioning: ["train.txt:3", "2 labels"]) {
            try read("__label__a one\n\n__label__a __label__b two\n")
        }
        assertThrowsTextModelError(.data, mentioning: ["train.txt:1", "3 labels"]) {
            try read("__label__a __label__b __label__c text")
        }
    }

    func testCRLFAndBlankLines() throws {
        let d = try read("\r\n__label__pos one\r\n\r\n   \r\n__label__neg two\r\n\n\t\n")
        XCTAssertEqual(d.labels, ["pos", "neg"])
        XCTAssertEqual(d.texts, ["one", "two"])
        XCTAssertFalse(d.texts.contains { $0.unicodeScalars.contains("\r") })
        XCTAssertEqual(d.skipped, 0)
    }

    func testLastLineWithoutNewlineAndBOM() throws {
        let d = try FastTextReader.read([0xEF, 0xBB, 0xBF] + Array("__label__a x\n__label__b y".utf8), source: "t")
        XCTAssertEqual(d.labels, ["a", "b"])
        XCTAssertEqual(d.texts, ["x", "y"])
    }

    func testEmptyInput() throws {
        XCTAssertEqual(try read("").count, 0)
        XCTAssertEqual(try read("\n\n").skipped, 0)
    }

    func testInvalidUTF8() throws {
        let d = try FastTextReader.read(Array("__label__a x".utf8) + [0xFF, 0xFE] + Array(" y\n".utf8), source: "t")
        XCTAssertEqual(d.labels, ["a"])
        XCTAssertTrue(d.texts[0].unicodeScalars.contains("\u{FFFD}"))
    }
}
