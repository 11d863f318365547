// Model-file format versions (ModelFileFormats): a mean-pooled CNN is written as format
// 2, every other model as 1; a format-1 CNN max-pools whatever its config says, as
// 0.3.0 did.
import XCTest
@testable import TextModel

final class ModelFileFormatsTests: XCTestCase {
    private func cnn(pooling: Config.Pooling) throws -> Model {
        var config = Config(modelType: .cnn)
        config.tokenizer.minFreq = 1
        config.model.embeddingDim = 8
        config.model.filters = 4
        config.model.kernelSizes = [1, 2]
        config.model.pooling = pooling
        config.training.epochs = 1
        config.training.threads = 1
        let model = Model(config: config)
        try model.train(KeywordData.make(count: 40, seed: 3))
        return model
    }

    private func formatVersion(_ path: String) throws -> String {
        let text = String(decoding: readBytes(path), as: UTF8.self)
        for version in ["1", "2"] where text.contains(#""format_version":"\#(version)""#) { return version }
        XCTFail("no format_version in \(path)")
        return ""
    }

    func testAMeanPooledCNNIsFormat2AndEveryOtherModelFormat1() throws {
        let dir = ScratchDirectory()
        let texts = KeywordData.make(count: 10, seed: 4).texts
        for (pooling, version) in [(Config.Pooling.mean, "2"), (.max, "1")] {
            let model = try cnn(pooling: pooling)
            let path = dir.file("cnn-\(pooling.rawValue).safetensors")
            try model.save(to: path)
            XCTAssertEqual(try formatVersion(path), version, "\(pooling)")
            let loaded = try Model.load(from: path)
            XCTAssertEqual(loaded.config.model.pooling, pooling)
            XCTAssertEqual(try loaded.predictProbabilities(texts), try model.predictProbabilities(texts))
        }
    }

    func testAFormat1CNNMaxPoolsWhateverItsConfigSays() throws {
        for given in ["mean", "last", "max"] {
            let value = try JSONValue.parse(#"{"model":{"type":"cnn","pooling":"\#(given)","filters":3},"training":{"epochs":2}}"#)
            let read = try Config(value: ModelFileFormats.config(value, version: 1))
            XCTAssertEqual(read.model.pooling, .max, "format 1, pooling \(given)")
            XCTAssertEqual(read.model.filters, 3)
            XCTAssertEqual(read.training.epochs, 2)
        }
        let mean = try JSONValue.parse(#"{"model":{"type":"cnn","pooling":"mean"}}"#)
        XCTAssertEqual(try Config(value: ModelFileFormats.config(mean, version: 2)).model.pooling, .mean)
        let lstm = try JSONValue.parse(#"{"model":{"type":"lstm","pooling":"mean"}}"#)
        XCTAssertEqual(try Config(value: ModelFileFormats.config(lstm, version: 1)).model.pooling, .mean, "only a CNN's pooling is format-dependent")
    }
}
