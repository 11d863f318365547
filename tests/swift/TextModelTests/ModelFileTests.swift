// The safetensors model file: round trip, and refusal (never a crash, never a wrong
// model) of truncated, bit-flipped, crafted and foreign files; crash-safe saving.
#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import TextModel

final class ModelFileTests: XCTestCase {

    static let texts = ["the cat sat on the mat", "dogs bark loudly", "école Ünïcödé 😀 \"quoted\" \\ slash",
                        "a b c d e f g", "cat dog", "mat bark"]
    static let labels = ["neg", "neu", "pos"]

    private func makeModel(seed: UInt64 = 11, layers: Int = 2, pooling: Config.Pooling = .last) -> TrainedModel {
        var config = tinyConfig(embedding: 4, hidden: 5, layers: layers)
        config.model.pooling = pooling
        return randomModel(config: config, texts: ModelFileTests.texts, labels: ModelFileTests.labels, seed: seed)
    }

    private let probe = ["the cat", "unknown words only", "", "école 😀 dog dog dog", "a b c d e f g mat"]

    // MARK: file surgery helpers

    /// Header members and data of a model file.
    private func split(_ bytes: [UInt8]) throws -> (header: [(String, JSONValue)], data: [UInt8]) {
        var length = 0
        for i in (0..<8).reversed() { length = length << 8 | Int(bytes[i]) }
        var headerBytes = Array(bytes[8..<(8 + length)])
        let header = try JSONValue.parse(bytes: &headerBytes, what: "header")
        return (header.objectValue ?? [], Array(bytes[(8 + length)...]))
    }

    /// A model file from header members and data; with `fixChecksums` the two CRCs are
    /// recomputed the way the format defines them, so only the intended change remains.
    private func build(_ header: [(String, JSONValue)], _ data: [UInt8], fixChecksums: Bool = true) -> [UInt8] {
        var header = header
        if fixChecksums, let i = header.firstIndex(where: { $0.0 == "__metadata__" }), var meta = header[i].1.objectValue {
            func get(_ k: String) -> String { meta.last(where: { $0.0 == k })?.1.stringValue ?? "" }
            var covered = [UInt8]()
            for part in [get("format"), get("format_version"), get("library_version"), get("config"), get("vocabulary"), get("labels")] {
                covered += Array(part.utf8) + [0]
            }
            for (k, v) in [("checksum_metadata", CRC32.hex(CRC32.checksum(covered))), ("checksum_data", CRC32.hex(CRC32.checksum(data)))] {
                if let j = meta.firstIndex(where: { $0.0 == k }) { meta[j].1 = .string(v) }
            }
            header[i].1 = .object(meta)
        }
        var headerBytes = Array(JSONValue.object(header).serialized.utf8)
        while (8 + headerBytes.count) % 8 != 0 { headerBytes.append(0x20) }
        var prefix = [UInt8](repeating: 0, count: 8)
        var n = UInt64(headerBytes.count)
        for i in 0..<8 { prefix[i] = UInt8(n & 0xFF); n >>= 8 }
        return prefix + headerBytes + data
    }

    private func editMetadata(_ header: [(String, JSONValue)], _ key: String, _ value: JSONValue?) -> [(String, JSONValue)] {
        var header = header
        guard let i = header.firstIndex(where: { $0.0 == "__metadata__" }), var meta = header[i].1.objectValue else { return header }
        if let j = meta.firstIndex(where: { $0.0 == key }) {
            if let value = value { meta[j].1 = value } else { meta.remove(at: j) }
        }
        header[i].1 = .object(meta)
        return header
    }

    private func loadBytes(_ bytes: [UInt8], in dir: ScratchDirectory) throws -> TrainedModel {
        let path = dir.file("crafted.safetensors")
        writeBytes(path, bytes)
        return try ModelFile.load(from: path)
    }

    // MARK: round trip

    func testSaveLoadRoundTrip() throws {
        let dir = ScratchDirectory()
        for pooling in Config.Pooling.allCases {
            let model = makeModel(pooling: pooling)
            let path = dir.file("model-\(pooling).safetensors")
            try ModelFile.save(model, to: path)
            let loaded = try ModelFile.load(from: path)
            XCTAssertEqual(probabilities(loaded, probe), probabilities(model, probe))
            XCTAssertEqual(loaded.labels, model.labels)
            XCTAssertEqual(loaded.vocabulary.tokens.map { Array($0.utf8) }, model.vocabulary.tokens.map { Array($0.utf8) })
            XCTAssertEqual(loaded.config.json.serialized, model.config.json.serialized)
            XCTAssertEqual(loaded.config.model.pooling, pooling)
            let count = model.network.layout.count
            XCTAssertEqual(loaded.network.layout.count, count)
            XCTAssertEqual(array(loaded.parameters.pointer, count).map(\.bitPattern), array(model.parameters.pointer, count).map(\.bitPattern))
            // Saving what was loaded gives the same bytes.
            try ModelFile.save(loaded, to: dir.file("again.safetensors"))
            XCTAssertEqual(readBytes(dir.file("again.safetensors")), readBytes(path))
        }
    }

    func testFileIsSafetensors() throws {
        let dir = ScratchDirectory()
        let model = makeModel()
        try ModelFile.save(model, to: dir.file("m.safetensors"))
        let bytes = readBytes(dir.file("m.safetensors"))
        let (header, data) = try split(bytes)
        XCTAssertEqual(data.count, model.network.layout.count * 4)
        XCTAssertEqual((8 + bytes.count - data.count - 8) % 8, 0, "header padded to 8 bytes")
        let meta = try XCTUnwrap(header.first { $0.0 == "__metadata__" }?.1.objectValue)
        XCTAssertEqual(meta.first { $0.0 == "format" }?.1.stringValue, "libtextmodel")
        XCTAssertEqual(meta.first { $0.0 == "format_version" }?.1.stringValue, "1")
        for (_, value) in meta { XCTAssertNotNil(value.stringValue, "safetensors metadata values are strings") }
        // Tensors: F32, layout order, contiguous, little-endian values.
        var expectedOffset = 0
        for t in model.network.layout.tensors {
            let entry = try XCTUnwrap(header.first { $0.0 == t.name }?.1, t.name)
            XCTAssertEqual(entry["dtype"]?.stringValue, "F32")
            XCTAssertEqual(entry["shape"]?.arrayValue?.compactMap(\.doubleValue), t.shape.map(Double.init))
            let offsets = entry["data_offsets"]?.arrayValue?.compactMap(\.doubleValue) ?? []
            XCTAssertEqual(offsets, [Double(expectedOffset), Double(expectedOffset + 4 * t.count)])
            expectedOffset += 4 * t.count
        }
        XCTAssertEqual(expectedOffset, data.count)
        let first = UInt32(data[0]) | UInt32(data[1]) << 8 | UInt32(data[2]) << 16 | UInt32(data[3]) << 24
        XCTAssertEqual(first, model.parameters.pointer[0].bitPattern)
        // The surgery helper rebuilds the file byte for byte (so crafted files below differ
        // from a real one only where intended).
        XCTAssertEqual(build(header, data), bytes)
    }

    func testPublicSaveAndLoad() throws {
        let dir = ScratchDirectory()
        let classifier = Model(model: makeModel())
        try classifier.save(to: dir.file("c.safetensors"))
        let loaded = try Model.load(from: dir.file("c.safetensors"))
        XCTAssertTrue(loaded.isTrained)
        XCTAssertEqual(loaded.labels, ModelFileTests.labels)
        XCTAssertEqual(try loaded.predictProbabilities(probe), try classifier.predictProbabilities(probe))
        let untrained = Model(config: Config(modelType: .lstm))
        assertThrowsTextModelError(.state) { try untrained.save(to: dir.file("u.safetensors")) }
        XCTAssertFalse(directoryEntries(dir.path).contains("u.safetensors"))
    }

    /// A model file written by 0.3.0, whose resolved config has no model.heads, loads
    /// with the default and gives the same predictions.
    func testAModelFileWithoutModelHeadsLoads() throws {
        let dir = ScratchDirectory()
        let model = makeModel()
        try ModelFile.save(model, to: dir.file("m.safetensors"))
        let (header, data) = try split(readBytes(dir.file("m.safetensors")))
        let old = removingConfigKey("model.heads", from: model.config.json).serialized
        XCTAssertFalse(old.contains("heads"))
        let bytes = build(editMetadata(editMetadata(header, "config", .string(old)), "library_version", .string("0.3.0")), data)
        let loaded = try loadBytes(bytes, in: dir)
        XCTAssertEqual(loaded.config.model.heads, 4)
        XCTAssertEqual(loaded.config.json.serialized, model.config.json.serialized)
        XCTAssertEqual(probabilities(loaded, probe), probabilities(model, probe))
    }

    // MARK: damaged files

    func testEveryTruncationIsRefused() throws {
        let dir = ScratchDirectory()
        try ModelFile.save(makeModel(layers: 1), to: dir.file("m.safetensors"))
        let bytes = readBytes(dir.file("m.safetensors"))
        var accepted = [Int]()
        for length in 0..<bytes.count {
            do {
                _ = try loadBytes(Array(bytes[0..<length]), in: dir)
                accepted.append(length)
            } catch let e as TextModelError {
                if e.kind != .modelFormat { XCTFail("length \(length): kind \(e.kind): \(e.message)") }
            }
        }
        XCTAssertEqual(accepted, [], "truncated files that loaded")
        XCTAssertNoThrow(try loadBytes(bytes, in: dir))
    }

    func testBitFlipsAreRefused() throws {
        let dir = ScratchDirectory()
        let model = makeModel(layers: 1)
        try ModelFile.save(model, to: dir.file("m.safetensors"))
        let bytes = readBytes(dir.file("m.safetensors"))
        let reference = probabilities(model, probe)
        var undetected = [String]()
        for offset in 0..<bytes.count {
            // Every bit of the length prefix; one bit (rotating) of every other byte.
            let bits = offset < 8 ? Array(0..<8) : [offset % 8]
            for bit in bits {
                var damaged = bytes
                damaged[offset] ^= UInt8(1 << bit)
                do {
                    let loaded = try loadBytes(damaged, in: dir)
                    // A flip in the header's space padding or in JSON whitespace may
                    // leave the file meaning the same: allowed only if nothing changed.
                    if probabilities(loaded, probe) != reference { undetected.append("offset \(offset) bit \(bit)") }
                } catch let e as TextModelError {
                    if e.kind != .modelFormat { XCTFail("offset \(offset) bit \(bit): kind \(e.kind): \(e.message)") }
                }
            }
        }
        XCTAssertEqual(undetected, [], "bit flips that loaded a different model")
    }

    /// The magic: a fixed byte prefix at offset 8 (where the JSON header starts), checked
    /// by byte compare before anything is parsed.
    func testModelFileHoldsTheMagicAtOffset8() throws {
        let dir = ScratchDirectory()
        try ModelFile.save(makeModel(layers: 1), to: dir.file("m.safetensors"))
        let bytes = readBytes(dir.file("m.safetensors"))
        let magic = Array(#"{"__metadata__":{"format":"libtextmodel","#.utf8)
        XCTAssertEqual(Array(bytes[8..<(8 + magic.count)]), magic)
        XCTAssertEqual(SafeTensors.magic(format: ModelFile.formatName), magic)
    }

    func testFilesWithoutTheMagicAreRefusedAsForeign() throws {
        let dir = ScratchDirectory()
        try ModelFile.save(makeModel(layers: 1), to: dir.file("m.safetensors"))
        let bytes = readBytes(dir.file("m.safetensors"))
        let (header, data) = try split(bytes)
        // Each alteration of the prefix alone: another format name of the same length,
        // a key in other case, a space JSON allows.
        var otherName = bytes
        otherName[8 + 27] = UInt8(ascii: "L")                       // "Libtextmodel"
        var otherKey = bytes
        otherKey[8 + 18] = UInt8(ascii: "F")                        // "Format"
        let spaced = Array(bytes[0..<8]) + Array(" ".utf8) + Array(bytes[8...])
        // The same metadata, checksums and tensors, but a tensor's entry before
        // __metadata__: a valid safetensors file that parsing alone would accept.
        var reordered = header
        reordered.append(reordered.removeFirst())
        let cases: [(String, [UInt8])] = [("other format name", otherName), ("other key", otherKey),
                                          ("leading space", spaced), ("metadata not first", build(reordered, data))]
        for (name, altered) in cases {
            assertThrowsTextModelError(.modelFormat, mentioning: ["is not a libtextmodel model file", "offset 8"], name) {
                try loadBytes(altered, in: dir)
            }
        }
        // A checkpoint's magic is not a model file's either.
        var checkpoint = bytes
        checkpoint.replaceSubrange((8 + 26)..<(8 + 41), with: Array(#""libtextmodel-checkpoint","#.utf8))
        assertThrowsTextModelError(.modelFormat, mentioning: ["is not a libtextmodel model file"]) { try loadBytes(checkpoint, in: dir) }
        XCTAssertNoThrow(try loadBytes(bytes, in: dir), "the unaltered file loads")
    }

    func testEmptyGarbageAndForeignFiles() throws {
        let dir = ScratchDirectory()
        var rng = SeededGenerator(seed: 77)
        let garbage = (0..<4096).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let cases: [(String, [UInt8])] = [
            ("empty", []),
            ("seven bytes", [1, 2, 3, 4, 5, 6, 7]),
            ("zero header length", [UInt8](repeating: 0, count: 8)),
            ("huge header length", [UInt8](repeating: 0xFF, count: 8) + Array("{}".utf8)),
            ("garbage", garbage),
            ("text", Array("this is not a model file\n".utf8)),
            ("empty header object", build([], [])),
            ("foreign safetensors", build([("__metadata__", .object([("format", .string("pt"))])),
                                           ("w", .object([("dtype", .string("F32")), ("shape", .array([.int(1)])),
                                                          ("data_offsets", .array([.int(0), .int(4)]))]))], [0, 0, 0, 0],
                                          fixChecksums: false)),
            ("header not an object", { var b = build([], []); let a = Array("[1,2,3]".utf8)
                                       b = [UInt8(a.count), 0, 0, 0, 0, 0, 0, 0] + a; return b }()),
        ]
        for (name, bytes) in cases {
            assertThrowsTextModelError(.modelFormat, name) { try loadBytes(bytes, in: dir) }
        }
    }

    func testCraftedFilesWithValidChecksums() throws {
        let dir = ScratchDirectory()
        let model = makeModel(layers: 1)
        try ModelFile.save(model, to: dir.file("m.safetensors"))
        let (header, data) = try split(readBytes(dir.file("m.safetensors")))
        XCTAssertNoThrow(try loadBytes(build(header, data), in: dir))

        var config = model.config
        config.model.hiddenDim += 1
        var nanData = data
        nanData[4..<8] = [0x00, 0x00, 0xC0, 0x7F]    // a quiet NaN as the second weight
        var infData = data
        infData[0..<4] = [0x00, 0x00, 0x80, 0x7F]    // +infinity as the first weight
        var tensorsOnly = header
        tensorsOnly.removeAll { $0.0 == "__metadata__" }
        var badShape = header
        if let i = badShape.firstIndex(where: { $0.0 == "output.bias" }) {
            badShape[i].1 = .object([("dtype", .string("F32")), ("shape", .array([.int(2)])),
                                     ("data_offsets", badShape[i].1["data_offsets"] ?? .null)])
        }
        var badDtype = header
        if let i = badDtype.firstIndex(where: { $0.0 == "output.bias" }) {
            badDtype[i].1 = .object([("dtype", .string("F16")), ("shape", badDtype[i].1["shape"] ?? .null),
                                     ("data_offsets", badDtype[i].1["data_offsets"] ?? .null)])
        }
        var extraTensor = header
        extraTensor.append(("extra", .object([("dtype", .string("F32")), ("shape", .array([.int(0)])),
                                              ("data_offsets", .array([.int(Int64(data.count)), .int(Int64(data.count))]))])))
        var missingTensor = header
        missingTensor.removeAll { $0.0 == "output.bias" }

        let cases: [(String, [UInt8], [String])] = [
            ("other format", build(editMetadata(header, "format", .string("libtextmodel2")), data), ["format"]),
            ("format version 0", build(editMetadata(header, "format_version", .string("0")), data), ["format_version"]),
            ("format version text", build(editMetadata(header, "format_version", .string("one")), data), ["format_version"]),
            ("no format version", build(editMetadata(header, "format_version", nil), data), ["format_version"]),
            ("no checksum", build(editMetadata(header, "checksum_metadata", nil), data), ["checksum_metadata"]),
            ("wrong metadata checksum", build(editMetadata(header, "checksum_metadata", .string("00000000")), data, fixChecksums: false), ["checksum"]),
            ("wrong data checksum", build(editMetadata(header, "checksum_data", .string("00000000")), data, fixChecksums: false), ["checksum"]),
            ("invalid config", build(editMetadata(header, "config", .string("{\"model\":{\"hidden_dim\":0}}")), data), ["config"]),
            ("config not JSON", build(editMetadata(header, "config", .string("{")), data), ["config"]),
            ("config with other sizes", build(editMetadata(header, "config", .string(config.json.serialized)), data), ["bytes"]),
            ("vocabulary without specials", build(editMetadata(header, "vocabulary", .string("[\"a\",\"b\",\"c\"]")), data), []),
            ("vocabulary not an array", build(editMetadata(header, "vocabulary", .string("{}")), data), ["vocabulary"]),
            ("vocabulary with a number", build(editMetadata(header, "vocabulary", .string("[\"<pad>\",\"<unk>\",3]")), data), ["vocabulary"]),
            ("one label", build(editMetadata(header, "labels", .string("[\"only\"]")), data), ["labels"]),
            ("duplicate labels", build(editMetadata(header, "labels", .string("[\"a\",\"b\",\"a\"]")), data), ["labels"]),
            ("metadata value not a string", build(editMetadata(header, "labels", .array([.string("a"), .string("b")])), data), []),
            ("no metadata", build(tensorsOnly, data), ["__metadata__"]),
            ("NaN weight", build(header, nanData), ["finite"]),
            ("infinite weight", build(header, infData), ["finite"]),
            ("extra data", build(header, data + [0, 0, 0, 0]), ["bytes"]),
            ("short data", build(header, Array(data.dropLast(4))), ["bytes"]),
            ("wrong shape", build(badShape, data), ["output.bias"]),
            ("wrong dtype", build(badDtype, data), ["output.bias"]),
            ("extra tensor", build(extraTensor, data), []),
            ("missing tensor", build(missingTensor, data), []),
        ]
        for (name, bytes, mentions) in cases {
            assertThrowsTextModelError(.modelFormat, mentioning: mentions, name) { try loadBytes(bytes, in: dir) }
        }
    }

    func testNewerFormatVersionIsRefusedWithAClearMessage() throws {
        let dir = ScratchDirectory()
        try ModelFile.save(makeModel(), to: dir.file("m.safetensors"))
        let (header, data) = try split(readBytes(dir.file("m.safetensors")))
        // 2: a mean-pooled CNN, 3: f16/int8 weights, 4: product-quantized (ModelFileFormats);
        // the next one is newer.
        for version in [String(ModelFile.formatVersion + 1), "17"] {
            let bytes = build(editMetadata(header, "format_version", .string(version)), data)
            assertThrowsTextModelError(.modelFormat, mentioning: ["newer", "version \(version)"]) { try loadBytes(bytes, in: dir) }
        }
    }

    /// A format-1 CNN whose config names another pooling (0.3.0 accepted and ignored the
    /// key) max-pools as 0.3.0 did; the same file marked format 2 pools as its config says.
    func testAFormat1CNNFileMaxPoolsWhateverItsConfigSays() throws {
        let dir = ScratchDirectory()
        var config = Config(modelType: .cnn)
        config.model.embeddingDim = 4
        config.model.filters = 3
        config.model.kernelSizes = [1, 2]
        let maxModel = randomModel(config: config, texts: ModelFileTests.texts, labels: ModelFileTests.labels, seed: 5)
        try ModelFile.save(maxModel, to: dir.file("cnn.safetensors"))
        let (header, data) = try split(readBytes(dir.file("cnn.safetensors")))
        config.model.pooling = .mean
        let meanConfig = config.json.serialized
        func outputs(_ model: TrainedModel) -> [Float] { probabilities(model, ModelFileTests.texts) }
        let asWritten = outputs(maxModel)
        let format1 = try loadBytes(build(editMetadata(header, "config", .string(meanConfig)), data), in: dir)
        XCTAssertEqual(format1.config.model.pooling, .max)
        XCTAssertEqual(outputs(format1), asWritten)
        let format2 = try loadBytes(build(editMetadata(editMetadata(header, "config", .string(meanConfig)), "format_version", .string("2")), data), in: dir)
        XCTAssertEqual(format2.config.model.pooling, .mean)
        XCTAssertNotEqual(outputs(format2), asWritten)
    }

    // MARK: paths

    func testPathProblems() throws {
        let dir = ScratchDirectory()
        assertThrowsTextModelError(.io, mentioning: ["directory"]) { try ModelFile.load(from: dir.path) }
        assertThrowsTextModelError(.io, mentioning: ["missing.safetensors"]) { try ModelFile.load(from: dir.file("missing.safetensors")) }
        assertThrowsTextModelError(.io) { try Model.load(from: dir.file("missing.safetensors")) }
        let model = makeModel()
        assertThrowsTextModelError(.io, mentioning: ["directory"]) { try ModelFile.save(model, to: dir.path) }
        assertThrowsTextModelError(.io) { try ModelFile.save(model, to: dir.file("no/such/dir/m.safetensors")) }
        writeText(dir.file("plain"), "x")
        assertThrowsTextModelError(.io) { try ModelFile.save(model, to: dir.file("plain/m.safetensors")) }
        assertThrowsTextModelError(.invalidArgument) { try ModelFile.save(model, to: "") }
        XCTAssertEqual(directoryEntries(dir.path), ["plain"])
    }

    func testSaveToAnyValidFileName() throws {
        // Names up to NAME_MAX (255 bytes) are valid; the temporary file used for the
        // atomic replace must not make a valid target name fail.
        let dir = ScratchDirectory()
        let model = makeModel()
        for length in [1, 200, 240, 255] {
            let name = String(repeating: "m", count: length)
            XCTAssertNoThrow(try ModelFile.save(model, to: dir.file(name)), "file name of \(length) bytes")
            XCTAssertNoThrow(try ModelFile.load(from: dir.file(name)), "file name of \(length) bytes")
        }
        // A relative path (no directory part) works too.
        var cwd = [CChar](repeating: 0, count: 4096)
        XCTAssertNotNil(getcwd(&cwd, cwd.count))
        XCTAssertEqual(chdir(dir.path), 0)
        defer { chdir(cwd) }
        XCTAssertNoThrow(try ModelFile.save(model, to: "relative.safetensors"))
        XCTAssertNoThrow(try ModelFile.load(from: "relative.safetensors"))
    }

    func testSavingOverAnExistingFileReplacesIt() throws {
        let dir = ScratchDirectory()
        let path = dir.file("m.safetensors")
        let a = makeModel(seed: 1), b = makeModel(seed: 2)
        try ModelFile.save(a, to: path)
        try ModelFile.save(b, to: path)
        XCTAssertEqual(probabilities(try ModelFile.load(from: path), probe), probabilities(b, probe))
        XCTAssertNotEqual(probabilities(a, probe), probabilities(b, probe))
        XCTAssertEqual(directoryEntries(dir.path), ["m.safetensors"], "no temporary files left behind")
    }

    func testFailedSaveLeavesTheOldFileLoadable() throws {
        let dir = ScratchDirectory()
        let path = dir.file("m.safetensors")
        let old = makeModel(seed: 1, layers: 1)
        try ModelFile.save(old, to: path)
        let before = readBytes(path)
        let bigger = makeModel(seed: 2, layers: 3)

        // 1. The write fails part way (a file-size limit stands in for a full disk; it
        //    also works when the tests run as root, where permissions do not stop writes).
        var saved = rlimit()
        XCTAssertEqual(getrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &saved), 0)
        let previousHandler = signal(SIGXFSZ, SIG_IGN)
        var limited = saved
        limited.rlim_cur = rlim_t(before.count / 2)
        XCTAssertEqual(setrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &limited), 0)
        var error: Error?
        do { try ModelFile.save(bigger, to: path) } catch let e { error = e }
        XCTAssertEqual(setrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &saved), 0)
        signal(SIGXFSZ, previousHandler)
        XCTAssertEqual((error as? TextModelError)?.kind, .io, "\(String(describing: error))")
        XCTAssertEqual(readBytes(path), before)
        XCTAssertEqual(probabilities(try ModelFile.load(from: path), probe), probabilities(old, probe))
        XCTAssertEqual(directoryEntries(dir.path), ["m.safetensors"], "the temporary file was not removed")

        // 2. A directory nobody may write to (only meaningful without root's override).
        if geteuid() != 0 {
            chmod(dir.path, 0o555)
            assertThrowsTextModelError(.io) { try ModelFile.save(bigger, to: path) }
            chmod(dir.path, 0o755)
            XCTAssertEqual(readBytes(path), before)
            XCTAssertNoThrow(try ModelFile.load(from: path))
        }
    }
}
