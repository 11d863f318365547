// Models as bytes: Model.serialized gives the bytes Model.save writes, and
// Model.load(copying:) of them is the same model; damaged bytes are modelFormat errors.
#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import TextModel

final class ModelBytesTests: XCTestCase {
    private let probe = ["the cat", "unknown words only", "", "école 😀 dog dog dog"]

    private func makeModel() -> Model {
        let config = tinyConfig(embedding: 4, hidden: 5, layers: 1)
        return Model(model: randomModel(config: config, texts: ModelFileTests.texts, labels: ModelFileTests.labels, seed: 3))
    }

    func testBytesAreTheFileAndLoadBack() throws {
        let dir = ScratchDirectory()
        let model = makeModel()
        let bytes = try model.serialized()
        try model.save(to: dir.file("m.safetensors"))
        XCTAssertEqual(bytes, readBytes(dir.file("m.safetensors")))
        let loaded = try bytes.withUnsafeBytes { try Model.load(copying: $0, source: "test bytes") }
        XCTAssertEqual(try loaded.predictProbabilities(probe), try model.predictProbabilities(probe))
        XCTAssertEqual(loaded.labels, model.labels)
        XCTAssertEqual(loaded.config.json.serialized, model.config.json.serialized)
    }

    func testCallerAllocatorReceivesTheWholeModel() throws {
        let model = makeModel()
        var asked = 0
        let (buffer, count) = try model.serialized(allocate: { asked = $0; return malloc($0) })
        defer { free(buffer) }
        XCTAssertEqual(asked, count)
        XCTAssertEqual(Array(UnsafeRawBufferPointer(start: buffer, count: count)), try model.serialized())
        // An allocator that fails is a resource error, not a crash.
        assertThrowsTextModelError(.resource, mentioning: ["out of memory"]) { try model.serialized(allocate: { _ in nil }) }
    }

    func testUntrainedAndDamagedBytes() throws {
        let untrained = Model(config: Config(modelType: .lstm))
        assertThrowsTextModelError(.state) { try untrained.serialized() }
        let bytes = try makeModel().serialized()
        for cut in [0, 1, 8, 40, bytes.count / 2, bytes.count - 1] {
            let prefix = Array(bytes[..<cut])
            assertThrowsTextModelError(.modelFormat, mentioning: ["test bytes"]) {
                try prefix.withUnsafeBytes { try Model.load(copying: $0, source: "test bytes") }
            }
        }
        var flipped = bytes
        flipped[bytes.count - 3] ^= 0x40
        assertThrowsTextModelError(.modelFormat, mentioning: ["checksum"]) {
            try flipped.withUnsafeBytes { try Model.load(copying: $0, source: "test bytes") }
        }
    }
}
