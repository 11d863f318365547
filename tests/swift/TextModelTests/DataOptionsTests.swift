import XCTest
@testable import TextModel

/// JSON Lines input, pretrained word vectors (optionally frozen) and augmentation.
final class DataOptionsTests: XCTestCase {
    private func jsonl(_ text: String, format: Config.DataFormat = .auto, source: String = "d.jsonl") throws -> LabelledTexts {
        var config = Config.Data()
        config.format = format
        return try LabelledTexts.parse(Array(text.utf8), source: source, config: config)
    }

    func testJSONLinesReadsTextAndLabelFields() throws {
        let data = try jsonl("""
        {"text": "great food", "label": "pos", "id": 1}

        {"label": 3, "text": "meh, \\"ok\\"\\nthen"}
        {"text": "no label here"}
        {"text": "", "label": "neg"}
        {"text": null, "label": "neg"}
        """)
        XCTAssertEqual(data.texts, ["great food", "meh, \"ok\"\nthen"])
        XCTAssertEqual(data.labels, ["pos", "3"])
        XCTAssertEqual(data.skippedMissingLabel, 1)
        XCTAssertEqual(data.skippedEmptyText, 2)
    }

    func testJSONLinesFieldNamesAndErrors() throws {
        var config = Config.Data()
        config.textColumn = "body"
        config.labelColumn = "topic"
        let data = try LabelledTexts.parse(Array(#"{"body": "x y", "topic": "t"}"#.utf8), source: "f.ndjson", config: config)
        XCTAssertEqual(data.labels, ["t"])
        for bad in ["{\"text\": \"a\", \"label\": \"b\"}\n[1, 2]\n", "{\"text\": \"a\"\n", "{'text': 'a'}\n"] {
            XCTAssertThrowsError(try jsonl(bad)) { error in
                let e = error as? TextModelError
                XCTAssertEqual(e?.kind, .data)
                XCTAssertTrue(e?.message.contains("d.jsonl:") ?? false, e?.message ?? "")
            }
        }
        XCTAssertEqual(try jsonl(#"{"text": "a b", "label": "c"}"#, format: .jsonl, source: "x.txt").count, 1)
    }

    private func vectorsFile(_ dir: ScratchDirectory, _ lines: [String]) -> String {
        let path = dir.file("vectors.vec")
        writeBytes(path, Array(lines.joined(separator: "\n").utf8))
        return path
    }

    func testPretrainedVectorsInitialiseAndCanBeFrozen() throws {
        let dir = ScratchDirectory()
        let path = vectorsFile(dir, ["3 2", "pizza 0.5 -0.5", "goal 1 2", "absent 9 9"])
        var config = Config(modelType: .lstm)
        config.model.type = .bag
        config.model.embeddingDim = 2
        config.tokenizer.minFreq = 1
        config.model.pretrainedVectors = path
        config.model.freezeEmbeddings = true
        config.training.epochs = 2
        config.training.threads = 1
        let data = KeywordData.make(count: 60, seed: 3)
        let classifier = Model(config: config)
        let report = try classifier.train(data)
        XCTAssertEqual(report.pretrainedFound, 2)
        // Frozen: the trained model still holds exactly the file's vectors.
        let model = try XCTUnwrap(classifierModel(classifier))
        let e = model.network.embeddingTensor
        let id = Int(model.vocabulary.id(of: "pizza"))
        XCTAssertEqual(model.parameters.pointer[e.offset + id * 2], 0.5)
        XCTAssertEqual(model.parameters.pointer[e.offset + id * 2 + 1], -0.5)
        // Not frozen: they move.
        config.model.freezeEmbeddings = false
        let free = Model(config: config)
        try free.train(data)
        let moved = try XCTUnwrap(classifierModel(free))
        XCTAssertNotEqual(moved.parameters.pointer[e.offset + Int(moved.vocabulary.id(of: "pizza")) * 2], 0.5)
    }

    func testPretrainedVectorErrors() throws {
        let dir = ScratchDirectory()
        var config = Config(modelType: .lstm)
        config.model.embeddingDim = 3
        config.tokenizer.minFreq = 1
        config.training.epochs = 1
        config.model.pretrainedVectors = vectorsFile(dir, ["2 4", "pizza 1 2 3 4"])
        XCTAssertThrowsError(try Model(config: config).train(KeywordData.make(count: 20, seed: 1))) {
            XCTAssertEqual(($0 as? TextModelError)?.kind, .config)
        }
        config.model.pretrainedVectors = vectorsFile(dir, ["pizza 1 2"])
        XCTAssertThrowsError(try Model(config: config).train(KeywordData.make(count: 20, seed: 1))) {
            XCTAssertEqual(($0 as? TextModelError)?.kind, .data)
        }
        config.model.pretrainedVectors = dir.file("missing.vec")
        XCTAssertThrowsError(try Model(config: config).train(KeywordData.make(count: 20, seed: 1))) {
            XCTAssertEqual(($0 as? TextModelError)?.kind, .io)
        }
        XCTAssertThrowsError(try Config(json: #"{"model": {"freeze_embeddings": true}}"#))
    }

    func testAugmentationIsSeededAndKeepsAToken() {
        let augmenter = Augmenter(tokenDropout: 0.5, swap: 0.5)
        var a = SeededGenerator(seed: 4), b = SeededGenerator(seed: 4)
        let ids: [Int32] = Array(2..<30)
        let x = augmenter.apply(ids, rng: &a), y = augmenter.apply(ids, rng: &b)
        XCTAssertEqual(x, y)
        XCTAssertLessThan(x.count, ids.count)
        XCTAssertEqual(Set(x).subtracting(ids), [])
        var rng = SeededGenerator(seed: 1)
        let all = Augmenter(tokenDropout: 0.999, swap: 0)
        for _ in 0..<20 { XCTAssertEqual(all.apply([7, 8], rng: &rng).count >= 1, true) }
        let swapOnly = Augmenter(tokenDropout: 0, swap: 1)
        XCTAssertEqual(Array(swapOnly.apply([1, 2, 3, 4, 5], rng: &rng)), [2, 1, 4, 3, 5])
    }

    func testTrainingWithAugmentationLearns() throws {
        var config = Config(modelType: .lstm)
        config.model.embeddingDim = 8
        config.model.hiddenDim = 8
        config.tokenizer.minFreq = 1
        config.training.learningRate = 0.02
        config.training.batchSize = 16
        config.training.epochs = 6
        config.training.threads = 1
        config.training.augmentTokenDropout = 0.1
        config.training.augmentSwap = 0.1
        let classifier = Model(config: config)
        try classifier.train(KeywordData.make(count: 300, seed: 5))
        XCTAssertGreaterThanOrEqual(try classifier.evaluate(KeywordData.make(count: 90, seed: 6)).accuracy ?? -1, 0.9)
    }

    /// The trained model inside a classifier (through the save/load path, so the test
    /// sees exactly what a user would).
    private func classifierModel(_ c: Model) throws -> TrainedModel {
        let dir = ScratchDirectory()
        try c.save(to: dir.file("m.safetensors"))
        return try ModelFile.load(from: dir.file("m.safetensors"))
    }
}
