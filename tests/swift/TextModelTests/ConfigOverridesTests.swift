// Config overrides (`SECTION.KEY=VALUE`, the CLI's --set) and texts to predict read from
// files without labels (UnlabelledTexts, the CLI's predict input).
#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import TextModel

final class ConfigOverridesTests: XCTestCase {
    func testOverridesParseJSONValuesOrTakeStringsAndApplyInOrder() throws {
        let config = try Config(json: #"{"model": {"type": "lstm", "hidden_dim": 32}}"#,
                                overrides: ["model.hidden_dim=16", "training.optimizer=sgd", "training.learning_rate=0.5",
                                            "model.bidirectional=true", "model.hidden_dim=24", "model.kernel_sizes=[2, 3]"])
        XCTAssertEqual(config.model.type, .lstm)
        XCTAssertEqual(config.model.hiddenDim, 24)                 // the last override wins
        XCTAssertEqual(config.training.optimizer, .sgd)           // "sgd" is not JSON: a string
        XCTAssertEqual(config.training.learningRate, 0.5)
        XCTAssertTrue(config.model.bidirectional)
        XCTAssertEqual(config.model.kernelSizes, [2, 3])
    }

    func testAnOverrideOfTheTypeTakesThatTypesDefaults() throws {
        let config = try Config(json: nil, overrides: ["model.type=cnn"])
        XCTAssertEqual(config.model.type, .cnn)
        XCTAssertEqual(config.training.optimizer, .adam)          // the cnn's default, not the bag's sgd
        XCTAssertEqual(config.training.batchSize, 64)
    }

    func testBadOverridesAreConfigErrorsNamingTheProblem() {
        assertThrowsTextModelError(.config, mentioning: ["KEY=VALUE", "epochs"]) { try Config(json: nil, overrides: ["epochs"]) }
        assertThrowsTextModelError(.config, mentioning: ["empty key"]) { try Config(json: nil, overrides: ["model..type=cnn"]) }
        assertThrowsTextModelError(.config, mentioning: ["model.hiden_dim is not a known key"]) {
            try Config(json: nil, overrides: ["model.hiden_dim=3"])
        }
        assertThrowsTextModelError(.config, mentioning: ["training.epochs"]) { try Config(json: nil, overrides: ["training.epochs=-2"]) }
        assertThrowsTextModelError(.config, mentioning: ["cannot set model.type.x", "model.type is a string"]) {
            try Config(json: #"{"model": {"type": "cnn"}}"#, overrides: ["model.type.x=1"])
        }
    }

    func testConfigFilesMustHoldAnObject() throws {
        let dir = ScratchDirectory()
        writeText(dir.file("c.json"), #"{"training": {"epochs": 3}}"#)
        XCTAssertEqual(try Config(contentsOf: dir.file("c.json"), overrides: ["training.seed=7"]).training.epochs, 3)
        XCTAssertEqual(try Config(contentsOf: dir.file("c.json"), overrides: ["training.seed=7"]).training.seed, 7)
        writeText(dir.file("empty.json"), " \n")
        assertThrowsTextModelError(.config, mentioning: ["empty"]) { try Config(contentsOf: dir.file("empty.json"), overrides: []) }
        writeText(dir.file("list.json"), "[1]")
        assertThrowsTextModelError(.config, mentioning: ["JSON object"]) { try Config(contentsOf: dir.file("list.json"), overrides: []) }
        assertThrowsTextModelError(.io) { try Config(contentsOf: dir.file("missing.json"), overrides: []) }
    }

    func testUnlabelledTextsKeepEveryRowInOrder() throws {
        let dir = ScratchDirectory()
        writeText(dir.file("t.csv"), "id,text\n1,\"a, quoted\"\n2,\n3,plain\n")
        XCTAssertEqual(try UnlabelledTexts.read(path: dir.file("t.csv"), config: Config.Data()), ["a, quoted", "", "plain"])
        writeText(dir.file("t.jsonl"), "{\"text\": \"one\"}\n\n{\"label\": \"x\"}\n{\"text\": 5}\n")
        XCTAssertEqual(try UnlabelledTexts.read(path: dir.file("t.jsonl"), config: Config.Data()), ["one", "", "5"])
        writeText(dir.file("t.txt"), "__label__a __label__b two labels\nno label\n\n  __label__c spaced\r\n")
        XCTAssertEqual(try UnlabelledTexts.read(path: dir.file("t.txt"), config: Config.Data()),
                       ["two labels", "no label", "", "spaced"])
        writeText(dir.file("bad.csv"), "label,body\nx,y\n")
        assertThrowsTextModelError(.data, mentioning: ["no column named \"text\""]) {
            try UnlabelledTexts.read(path: dir.file("bad.csv"), config: Config.Data())
        }
        writeText(dir.file("bad.jsonl"), "[1]\n")
        assertThrowsTextModelError(.data, mentioning: ["bad.jsonl:1"]) {
            try UnlabelledTexts.read(path: dir.file("bad.jsonl"), config: Config.Data())
        }
    }
}
