import XCTest
@testable import TextModel

/// Inputs that would need more memory than allowed or available end in
/// TextModelError.resource, never in an allocation trap: files larger than their limit,
/// endless devices, and prediction workspaces beyond training.max_memory_mb.
final class ResourceLimitTests: XCTestCase {
    private func assertResource(_ body: () throws -> Void, mentions text: String,
                                file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            guard let e = error as? TextModelError else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertEqual(e.kind, .resource, e.message, file: file, line: line)
            XCTAssertTrue(e.message.contains(text), e.message, file: file, line: line)
        }
    }

    func testEndlessDeviceStopsAtTheLimit() {
        assertResource({ _ = try FileIO.readAll("/dev/zero", limit: 3 << 20, limitName: "the test limit") },
                       mentions: "gave more than 3 MB without ending (the test limit)")
    }

    func testRegularFileOverTheLimitIsRefusedBeforeReading() throws {
        let path = "/tmp/tm-limit-\(getpid()).bin"
        defer { unlink(path) }
        // A sparse 1 GiB file: refused from its size, so this costs no memory or time.
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        XCTAssertGreaterThanOrEqual(fd, 0)
        XCTAssertEqual(ftruncate(fd, 1 << 30), 0)
        close(fd)
        assertResource({ _ = try FileIO.readAll(path, limit: 1 << 20, limitName: "the test limit") },
                       mentions: "is 1024 MB, more than the test limit (1 MB)")
    }

    func testSmallFilesReadWhole() throws {
        let path = "/tmp/tm-small-\(getpid()).txt"
        defer { unlink(path) }
        try FileIO.writeAtomically(path, parts: [Array("hello".utf8), Array(" world".utf8)])
        XCTAssertEqual(try FileIO.readAll(path, limit: 11), Array("hello world".utf8))
        XCTAssertEqual(try FileIO.readAll("/dev/null"), [])
    }

    func testPredictionBeyondTheMemoryCapIsAnError() throws {
        var config = tinyConfig(embedding: 64, hidden: 512)
        config.tokenizer.maxLength = 100_000
        config.training.maxMemoryMB = 64
        let model = randomModel(config: config, texts: ["a b c"], labels: ["x", "y"])
        let long = String(repeating: "a b c ", count: 20_000)
        var out = [Float](repeating: 0, count: 2)
        assertResource({ try out.withUnsafeMutableBufferPointer { try model.outputs(of: [long], into: $0.baseAddress!) } },
                       mentions: "training.max_memory_mb = 64")
        // Short texts still fit, on every thread asked for.
        try out.withUnsafeMutableBufferPointer { try model.outputs(of: ["a b"], into: $0.baseAddress!, threads: 4) }
        XCTAssertEqual(out[0] + out[1], 1, accuracy: 1e-5)
    }
}
