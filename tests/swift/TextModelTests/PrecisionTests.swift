// Compact models: f16 and int8 model files (round trip for every model type and task,
// format version 5 and its vocabulary tensor, old format-3 files), the int8 kernels (against an f32 reference; the VNNI,
// AVX2 and portable paths give the same int32 sums and floats), determinism of int8
// predictions across thread counts, and refusal of corrupted compact files.
#if canImport(Glibc)
import Glibc
#endif
import CKernels
import XCTest
@testable import TextModel

final class PrecisionTests: XCTestCase {
    static let texts = ["the cat sat on the mat", "dogs bark loudly at the moon tonight", "école Ünïcödé 😀 \"quoted\"",
                        "a b c d e f g h i j k l", "cat dog", "mat bark", "one two three four five six seven"]
    static let labels = ["neg", "neu", "pos"]
    private let probe = ["the cat", "unknown words only", "", "école 😀 dog dog dog", "a b c d e f g mat",
                         "dogs bark loudly at the cat on the mat and the moon"]

    /// A random model of `type` and `task`, dims that exercise the kernels' tails.
    private func model(_ type: Config.ModelType, task: Config.Task = .singleLabel, seed: UInt64 = 3) -> TrainedModel {
        var c = tinyConfig(embedding: 12, hidden: 10)
        c.model.type = type
        c.model.task = task
        c.model.filters = 7
        c.model.kernelSizes = [2, 3]
        c.model.heads = 2
        c.model.layers = type == .transformer ? 2 : 1
        c.tokenizer.buckets = 64
        c.tokenizer.wordNgrams = type == .bag ? 2 : 1
        if type == .lstm { c.model.bidirectional = true }
        if type == .transformer || type == .bag { c.model.pooling = .mean }
        let labels = task == .regression ? [] : PrecisionTests.labels
        let tokenizer = Tokenizer(c.tokenizer)
        let vocabulary = Vocabulary.build(from: PrecisionTests.texts.map(tokenizer.tokenize), minFreq: 1, maxSize: c.tokenizer.maxSize)
        let network = NetworkBuilder.make(config: c, vocabularySize: vocabulary.count, classes: max(labels.count, 1))
        let parameters = FloatBuffer.zeros(count: network.layout.count)
        var rng = SeededGenerator(seed: seed)
        network.initialize(parameters.pointer, rng: &rng)
        // Non-zero output weights and biases everywhere (some encoders start them at zero).
        for i in 0..<network.layout.count where parameters.pointer[i] == 0 { parameters.pointer[i] = rng.uniform(-0.3, 0.3) }
        return TrainedModel(config: c, vocabulary: vocabulary, labels: labels,
                            scaling: task == .regression ? TargetScaling(mean: 2, std: 3) : .identity,
                            network: network, parameters: parameters)
    }

    private func outputs(_ m: TrainedModel, threads: Int = 1) throws -> [Float] {
        var out = [Float](repeating: .nan, count: probe.count * m.width)
        try out.withUnsafeMutableBufferPointer { try m.outputs(of: probe, into: $0.baseAddress!, threads: threads) }
        return out
    }

    private func bytes(_ m: TrainedModel, _ p: WeightPrecision) throws -> [UInt8] {
        let (buffer, count) = try ModelFile.serialize(m, precision: p, allocate: { malloc($0) })
        defer { free(buffer) }
        return Array(UnsafeRawBufferPointer(start: buffer, count: count))
    }

    private func metadata(_ bytes: [UInt8], _ key: String) throws -> String? {
        let file = try SafeTensors.open(bytes, format: ModelFile.formatName, maxHeaderBytes: 1 << 30,
                                        bad: { TextModelError.modelFormat($0) })
        return file.optionalField(key)
    }

    // MARK: round trips

    func testEveryModelTypeAndTaskRoundTripsInEveryPrecision() throws {
        var cases: [(Config.ModelType, Config.Task)] = Config.ModelType.allCases.map { ($0, .singleLabel) }
        cases += [(.bag, .multiLabel), (.transformer, .regression), (.cnn, .regression), (.gru, .multiLabel)]
        for (type, task) in cases {
            let original = model(type, task: task)
            let reference = try outputs(original)
            let f32 = try bytes(original, .f32)
            XCTAssertEqual(try metadata(f32, "weights_dtype"), "f32")
            XCTAssertLessThanOrEqual(Int(try metadata(f32, "format_version") ?? "") ?? 9, 2, "f32 files keep format 1/2")
            for precision in [WeightPrecision.f16, .int8] {
                let data = try bytes(original, precision)
                XCTAssertEqual(data.count, try ModelFile.encodedSize(of: original, precision: precision))
                XCTAssertEqual(try metadata(data, "weights_dtype"), precision.name)
                XCTAssertEqual(try metadata(data, "format_version"), "5")
                XCTAssertEqual(try metadata(data, "vocabulary_tokens"), String(original.vocabulary.count))
                XCTAssertNil(try metadata(data, "vocabulary"), "format 5 keeps the vocabulary out of the header")
                XCTAssertLessThan(data.count, f32.count, "\(type) \(precision)")
                let loaded = try ModelFile.load(bytes: data, source: "\(type) \(precision)")
                XCTAssertEqual(loaded.precision, precision)
                XCTAssertEqual(loaded.quantized != nil, precision == .int8)
                let got = try outputs(loaded)
                let tolerance: Float = precision == .f16 ? 3e-3 : 6e-2
                for (a, b) in zip(reference, got) {
                    XCTAssertEqual(a, b, accuracy: tolerance * max(1, abs(a)), "\(type) \(task) \(precision)")
                }
                // Saving a compact model in its own precision writes the same bytes again.
                XCTAssertEqual(try bytes(loaded, precision), data, "\(type) \(precision) re-save")
                // And as f32 it is an ordinary format-1/2 file of the dequantized weights.
                let back = try ModelFile.load(bytes: try bytes(loaded, .f32), source: "back")
                XCTAssertEqual(back.precision, .f32)
                if precision == .f16 { XCTAssertEqual(try outputs(back), got) }
            }
        }
    }

    func testInt8PredictionsDoNotDependOnThreadsOrBatch() throws {
        for type in [Config.ModelType.bag, .cnn, .lstm, .gru, .transformer] {
            let m = try ModelFile.load(bytes: try bytes(model(type), .int8), source: "int8")
            let one = try outputs(m, threads: 1)
            XCTAssertEqual(try outputs(m, threads: 2), one, "\(type)")
            XCTAssertEqual(try outputs(m, threads: 3), one, "\(type)")
            // Each text alone gives its row of the batch.
            for (i, text) in probe.enumerated() {
                var row = [Float](repeating: .nan, count: m.width)
                try row.withUnsafeMutableBufferPointer { try m.outputs(of: [text], into: $0.baseAddress!) }
                XCTAssertEqual(row, Array(one[(i * m.width)..<((i + 1) * m.width)]), "\(type) text \(i)")
            }
        }
    }

    func testF16RefusesWeightsBeyondItsRange() throws {
        let m = model(.lstm)
        m.parameters.pointer[3] = 1e6
        _ = assertThrowsTextModelError(.invalidArgument, mentioning: ["f16"]) { _ = try self.bytes(m, .f16) }
        XCTAssertNoThrow(try bytes(m, .int8))
    }

    // MARK: kernels

    private func randomInt8(_ count: Int, _ rng: inout SeededGenerator) -> [Int8] {
        (0..<count).map { _ in Int8(Int(rng.uniform(0, 255).rounded(.down)) - 127) }
    }

    func testKernelPathsGiveIdenticalSums() throws {
        var rng = SeededGenerator(seed: 5)
        let paths = [Int32(QMM_PORTABLE), Int32(QMM_AVX2), Int32(QMM_VNNI)].filter { qmm_path_supported($0) != 0 }
        for (m, n, k) in [(1, 1, 1), (3, 5, 7), (4, 16, 64), (9, 70, 131), (17, 3, 300), (5, 129, 4)] {
            let a = randomInt8(m * k, &rng), b = randomInt8(n * k, &rng)
            var sums = [Int32](repeating: 0, count: qmm_padded_columns(n))
            var packed = [Int8](repeating: 0, count: qmm_packed_bytes(n, k))
            qmm_row_sums(b, n, k, &sums)
            qmm_pack(b, n, k, &packed)
            var reference = [Int32](repeating: 0, count: m * n)
            for i in 0..<m { for j in 0..<n { for p in 0..<k { reference[i * n + j] += Int32(a[i * k + p]) * Int32(b[j * k + p]) } } }
            for path in paths {
                var out = [Int32](repeating: -1, count: m * n)
                qmm_s8_gemm_s32(path, a, m, b, packed, sums, n, k, &out)
                XCTAssertEqual(out, reference, "path \(path) m \(m) n \(n) k \(k)")
                // AVX2 also runs without the packed copy (another loop).
                guard path == Int32(QMM_AVX2) else { continue }
                out = [Int32](repeating: -1, count: m * n)
                qmm_s8_gemm_s32(path, a, m, b, nil, sums, n, k, &out)
                XCTAssertEqual(out, reference, "unpacked AVX2 m \(m) n \(n) k \(k)")
            }
            // The float layer too: the same floats on every path.
            let x = (0..<(m * k)).map { _ in rng.uniform(-2, 2) }
            let scales = (0..<n).map { _ in rng.uniform(0.001, 0.02) }, bias = (0..<n).map { _ in rng.uniform(-1, 1) }
            var first: [Float]? = nil
            for path in paths {
                var y = [Float](repeating: 0.5, count: m * n)
                qmm_linear(path, x, m, k, b, packed, scales, sums, n, bias, 1, &y, n)
                if let f = first { XCTAssertEqual(y, f, "path \(path)") } else { first = y }
                guard path == Int32(QMM_AVX2) else { continue }
                y = [Float](repeating: 0.5, count: m * n)
                qmm_linear(path, x, m, k, b, nil, scales, sums, n, bias, 1, &y, n)
                XCTAssertEqual(y, first, "unpacked AVX2")
            }
        }
        XCTAssertTrue(paths.contains(Int32(qmm_best_path())))
    }

    func testQuantizedLinearIsCloseToF32() throws {
        var rng = SeededGenerator(seed: 9)
        let rows = 37, columns = 53, count = 11
        let w = randomBuffer(rows * columns, &rng), x = randomBuffer(count * columns, &rng), bias = randomBuffer(rows, &rng)
        let q = try QuantizedMatrix(quantizing: w.pointer, rows: rows, columns: columns)
        let exact = FloatBuffer.zeros(count: count * rows), approx = FloatBuffer.zeros(count: count * rows)
        Linear.forward(x: x.pointer, rows: count, inputDim: columns, outputDim: rows, weight: w.pointer, bias: bias.pointer,
                       out: exact.pointer)
        q.linear(x: x.pointer, count: count, bias: bias.pointer, out: approx.pointer)
        var worst: Float = 0
        for i in 0..<(count * rows) { worst = max(worst, abs(exact.pointer[i] - approx.pointer[i])) }
        // Sums of 53 products of values in [−1, 1]: each side's rounding is ≤ 1/254 of its max.
        XCTAssertLessThan(worst, 0.15)
        XCTAssertGreaterThan(worst, 0, "the int8 path ran")
        // Dequantizing gives each weight back to within half a step of its row.
        let back = FloatBuffer.zeros(count: rows * columns)
        q.dequantize(into: back.pointer)
        for r in 0..<rows {
            for c in 0..<columns {
                XCTAssertEqual(back.pointer[r * columns + c], w.pointer[r * columns + c], accuracy: q.scales.pointer[r] / 2 * 1.0001)
            }
        }
    }

    // MARK: corrupted compact files

    /// The header entries and data of a file, and the file rebuilt from them with the
    /// checksums recomputed as the format defines them (so only the edit remains).
    private func edit(_ bytes: [UInt8], _ change: (inout [(String, JSONValue)], inout [UInt8]) -> Void) throws -> [UInt8] {
        var length = 0
        for i in (0..<8).reversed() { length = length << 8 | Int(bytes[i]) }
        var headerBytes = Array(bytes[8..<(8 + length)])
        var header = try JSONValue.parse(bytes: &headerBytes, what: "header").objectValue ?? []
        var data = Array(bytes[(8 + length)...])
        change(&header, &data)
        if let i = header.firstIndex(where: { $0.0 == "__metadata__" }), var meta = header[i].1.objectValue {
            func get(_ k: String) -> String? { meta.last(where: { $0.0 == k })?.1.stringValue }
            let sum = ModelFile.metadataChecksum(get("format_version") ?? "", get("library_version") ?? "", get("config") ?? "",
                                                 get("vocabulary") ?? get("vocabulary_tokens") ?? "", get("labels") ?? "", get("target_scaling"),
                                                 dtype: get("weights_dtype"))
            for (k, v) in [("checksum_metadata", CRC32.hex(sum)), ("checksum_data", CRC32.hex(CRC32.checksum(data)))] {
                if let j = meta.firstIndex(where: { $0.0 == k }) { meta[j].1 = .string(v) }
            }
            header[i].1 = .object(meta)
        }
        var out = Array(JSONValue.object(header).serialized.utf8)
        while (8 + out.count) % 8 != 0 { out.append(0x20) }
        var n = UInt64(out.count)
        var prefix = [UInt8](repeating: 0, count: 8)
        for i in 0..<8 { prefix[i] = UInt8(n & 0xFF); n >>= 8 }
        return prefix + out + data
    }

    private func dataOffset(_ header: [(String, JSONValue)], _ name: String) -> Int {
        Int(header.first { $0.0 == name }?.1["data_offsets"]?.arrayValue?[0].doubleValue ?? -1)
    }

    private func assertRefused(_ bytes: [UInt8], _ mentioning: [String], _ what: String,
                               file: StaticString = #filePath, line: UInt = #line) {
        _ = assertThrowsTextModelError(.modelFormat, mentioning: mentioning, file: file, line: line) {
            _ = try ModelFile.load(bytes: bytes, source: what)
        }
    }

    func testCorruptedCompactFilesAreCleanErrors() throws {
        let original = model(.lstm)
        let int8 = try bytes(original, .int8), f16 = try bytes(original, .f16)
        // Untouched edits load (the helper itself changes nothing).
        XCTAssertNoThrow(try ModelFile.load(bytes: try edit(int8) { _, _ in }, source: "same"))

        // Scales that are NaN, infinite, zero or negative.
        for bad: Float in [.nan, .infinity, 0, -0.5, -.infinity] {
            let crafted = try edit(int8) { header, data in
                let at = dataOffset(header, "output.weight.scale")
                withUnsafeBytes(of: bad.bitPattern.littleEndian) { for k in 0..<4 { data[at + k] = $0[k] } }
            }
            assertRefused(crafted, ["scale"], "scale \(bad)")
        }
        // An int8 value of −128 (outside the symmetric range).
        assertRefused(try edit(int8) { header, data in data[dataOffset(header, "output.weight")] = 0x80 }, ["−128"], "-128")
        // A scale tensor of the wrong shape, or missing.
        assertRefused(try edit(int8) { header, _ in
            if let i = header.firstIndex(where: { $0.0 == "output.weight.scale" }), case .object(var e) = header[i].1,
               let j = e.firstIndex(where: { $0.0 == "shape" }) {
                e[j].1 = .array([.int(2)])
                header[i].1 = .object(e)
            }
        }, ["output.weight.scale"], "scale shape")
        assertRefused(try edit(int8) { header, _ in header.removeAll { $0.0 == "output.weight.scale" } }, ["tensors"], "no scale")
        // A tensor whose dtype does not match the file's weights_dtype.
        assertRefused(try edit(int8) { header, _ in
            if let i = header.firstIndex(where: { $0.0 == "output.weight" }), case .object(var e) = header[i].1,
               let j = e.firstIndex(where: { $0.0 == "dtype" }) {
                e[j].1 = .string("F16")
                header[i].1 = .object(e)
            }
        }, ["output.weight"], "dtype")
        // Wrong or missing dtype strings in the metadata.
        for dtype in ["f32", "int4", "INT8", "", "bf16"] {
            assertRefused(try edit(int8) { header, _ in header = self.setMetadata(header, "weights_dtype", .string(dtype)) },
                          ["weights_dtype"], "dtype \(dtype)")
        }
        assertRefused(try edit(int8) { header, _ in header = self.setMetadata(header, "weights_dtype", nil) }, ["weights_dtype"], "none")
        // An f32 file (format 1) claiming another dtype.
        assertRefused(try edit(try bytes(original, .f32)) { header, _ in header = self.setMetadata(header, "weights_dtype", .string("int8")) },
                      ["weights_dtype"], "f32 as int8")
        // f16 and int8 files read as each other's dtype: the sizes no longer match.
        assertRefused(try edit(f16) { header, _ in header = self.setMetadata(header, "weights_dtype", .string("int8")) },
                      ["int8"], "f16 as int8")
        // A NaN in an f16 file.
        assertRefused(try edit(f16) { header, data in
            let at = dataOffset(header, "output.bias")
            data[at] = 0x00; data[at + 1] = 0x7E
        }, ["finite"], "f16 NaN")
        // Every truncation and a bit flip in every region: refused, never a crash.
        for compact in [int8, f16] {
            for cut in stride(from: 0, to: compact.count, by: max(1, compact.count / 97)) {
                assertRefused(Array(compact[..<cut]), [], "cut \(cut)")
            }
            for at in stride(from: 0, to: compact.count, by: max(1, compact.count / 61)) {
                var flipped = compact
                flipped[at] ^= 0x10
                XCTAssertThrowsError(try ModelFile.load(bytes: flipped, source: "flip \(at)"))
            }
        }
    }

    private func setMetadata(_ header: [(String, JSONValue)], _ key: String, _ value: JSONValue?) -> [(String, JSONValue)] {
        var header = header
        guard let i = header.firstIndex(where: { $0.0 == "__metadata__" }), var meta = header[i].1.objectValue,
              let j = meta.firstIndex(where: { $0.0 == key }) else { return header }
        if let value = value { meta[j].1 = value } else { meta.remove(at: j) }
        header[i].1 = .object(meta)
        return header
    }

    // MARK: the vocabulary tensor (format 5)

    func testVocabularyTensorRoundTripsAnyTokens() throws {
        let long = String(repeating: "é", count: 200)   // 400 bytes: a 2-byte length, a prefix capped at 255
        let tokens = ["<pad>", "<unk>", "", "a", "ab", "abc", "abd", "😀", "😁", "😁x", long, long + "a", long + "b",
                      "\u{0}", "\u{0}\u{0}", "x y\n"]
        let bytes = VocabularyTensor.encode(tokens)
        XCTAssertEqual(try VocabularyTensor.decode(bytes[...], count: tokens.count, bad: { .modelFormat($0) }), tokens)
        XCTAssertEqual(VocabularyTensor.encode(["<pad>", "<unk>"]), [0, 5] + Array("<pad>".utf8) + [1, 4] + Array("unk>".utf8))
    }

    /// An int8 file's vocabulary tensor edited by `change` (its bytes, at the end of the
    /// data), with the tensor's shape and offsets following its new length.
    private func editVocabulary(_ file: [UInt8], metadata: [(String, JSONValue?)] = [],
                                _ change: (inout [UInt8]) -> Void = { _ in }) throws -> [UInt8] {
        try edit(file) { header, data in
            let at = dataOffset(header, VocabularyTensor.name)
            var vocabulary = Array(data[at...])
            change(&vocabulary)
            data = Array(data[..<at]) + vocabulary
            if let i = header.firstIndex(where: { $0.0 == VocabularyTensor.name }) {
                header[i].1 = .object([("dtype", .string("U8")), ("shape", .array([.int(Int64(vocabulary.count))])),
                                       ("data_offsets", .array([.int(Int64(at)), .int(Int64(at + vocabulary.count))]))])
            }
            for (key, value) in metadata { header = self.setMetadata(header, key, value) }
        }
    }

    func testCorruptedVocabularyTensorsAreCleanErrors() throws {
        let original = model(.cnn)
        let int8 = try bytes(original, .int8)
        let n = original.vocabulary.count
        XCTAssertNoThrow(try ModelFile.load(bytes: try editVocabulary(int8), source: "same"))
        // The token count: wrong, or not a count.
        assertRefused(try editVocabulary(int8, metadata: [("vocabulary_tokens", .string(String(n + 1)))]), ["vocabulary", "ends after"], "n+1")
        assertRefused(try editVocabulary(int8, metadata: [("vocabulary_tokens", .string(String(n - 1)))]), ["vocabulary", "after its"], "n-1")
        for text in ["", "abc", "-1", "1", "+5", " 9", "99999999999999999999999"] {
            assertRefused(try editVocabulary(int8, metadata: [("vocabulary_tokens", .string(text))]), ["vocabulary_tokens"], "count \(text)")
        }
        assertRefused(try editVocabulary(int8, metadata: [("vocabulary_tokens", nil)]), ["vocabulary_tokens"], "no count")
        // Truncated, or with bytes after the last token.
        assertRefused(try editVocabulary(int8) { $0.removeLast() }, ["vocabulary token"], "short")
        assertRefused(try editVocabulary(int8) { $0.append(0) }, ["vocabulary", "after its"], "long")
        assertRefused(try editVocabulary(int8) { $0.removeAll() }, ["vocabulary", "ends after 0"], "empty")
        // Bytes that are not UTF-8, a shared prefix longer than the previous token, an
        // overlong or unterminated length, a vocabulary without <pad> first.
        assertRefused(try editVocabulary(int8) { $0[2] = 0xFF }, ["UTF-8"], "utf8")
        assertRefused(try editVocabulary(int8) { $0[0] = 3 }, ["shares 3 bytes"], "shared")
        assertRefused(try editVocabulary(int8) { $0[1] = 0x85 }, ["vocabulary token 0"], "length")
        assertRefused(try editVocabulary(int8) { $0 = [0] + [UInt8](repeating: 0xFF, count: 12) }, ["vocabulary token 0"], "varint")
        assertRefused(try editVocabulary(int8) { $0[2] = UInt8(ascii: "x") }, ["<pad>"], "no pad")
        assertRefused(try editVocabulary(int8) { $0 = VocabularyTensor.encode(["<pad>", "<unk>", "a", "a"] + (4..<n).map { "t\($0)" }) },
                      ["twice"], "repeat")
        // The tensor's entry: wrong dtype or shape, not last, missing.
        func entry(_ change: @escaping (inout [(String, JSONValue)]) -> Void) throws -> [UInt8] {
            try edit(int8) { header, _ in
                if let i = header.firstIndex(where: { $0.0 == VocabularyTensor.name }), case .object(var e) = header[i].1 {
                    change(&e)
                    header[i].1 = .object(e)
                }
            }
        }
        func set(_ key: String, _ value: JSONValue) -> (inout [(String, JSONValue)]) -> Void {
            { e in if let j = e.firstIndex(where: { $0.0 == key }) { e[j].1 = value } }
        }
        assertRefused(try entry(set("dtype", .string("I8"))), ["tensor vocabulary"], "dtype")
        assertRefused(try entry(set("shape", .array([.int(3)]))), ["tensor vocabulary"], "shape")
        assertRefused(try entry(set("shape", .array([]))), ["tensor vocabulary"], "rank")
        assertRefused(try entry(set("data_offsets", .array([.int(0), .int(4)]))), ["tensor vocabulary"], "offsets")
        assertRefused(try entry(set("data_offsets", .array([.double(0.5), .int(4)]))), ["tensor vocabulary"], "fraction")
        assertRefused(try edit(int8) { header, _ in header.removeAll { $0.0 == VocabularyTensor.name } }, ["tensor vocabulary"], "none")
        // A file cut in the tensor is truncated; a bit flip in it fails the data checksum.
        assertRefused(Array(int8.dropLast(2)), ["truncated"], "cut")
        let at = int8.count - 3
        var flipped = int8
        flipped[at] ^= 0x01
        assertRefused(flipped, ["checksum"], "flip")
    }

    // MARK: older files

    /// A format-3 file (0.5.0): the same weights with the vocabulary as JSON in the header.
    func testFormat3FilesStillLoad() throws {
        for (type, precision) in [(Config.ModelType.lstm, WeightPrecision.int8), (.cnn, .f16), (.bag, .int8), (.transformer, .int8)] {
            let original = model(type)
            let current = try bytes(original, precision)
            let vocabulary = JSONValue.array(original.vocabulary.tokens.map { .string($0) })
            let format3 = try edit(current) { header, data in
                data = Array(data[..<dataOffset(header, VocabularyTensor.name)])
                header.removeAll { $0.0 == VocabularyTensor.name }
                header = self.setMetadata(header, "format_version", .string("3"))
                header = self.setMetadata(header, "vocabulary_tokens", .string(vocabulary.serialized))
                if let i = header.firstIndex(where: { $0.0 == "__metadata__" }), case .object(var meta) = header[i].1,
                   let j = meta.firstIndex(where: { $0.0 == "vocabulary_tokens" }) {
                    meta[j].0 = "vocabulary"
                    header[i].1 = .object(meta)
                }
            }
            XCTAssertLessThan(current.count, format3.count, "format 5 is the smaller")
            let loaded = try ModelFile.load(bytes: format3, source: "format 3")
            XCTAssertEqual(loaded.precision, precision)
            XCTAssertEqual(loaded.vocabulary.tokens, original.vocabulary.tokens)
            XCTAssertEqual(try outputs(loaded), try outputs(try ModelFile.load(bytes: current, source: "format 5")), "\(type)")
            XCTAssertEqual(try bytes(loaded, precision), current, "a format-3 model saves as format 5")
            // A format-3 file with a vocabulary tensor instead is refused (its tensors are other).
            assertRefused(try edit(current) { header, _ in header = self.setMetadata(header, "format_version", .string("3")) },
                          ["vocabulary"], "3 with tensor")
        }
    }

    func testFilesWithoutWeightsDtypeStillLoad() throws {
        let original = model(.cnn)
        let f32 = try bytes(original, .f32)
        let old = try edit(f32) { header, _ in header = self.setMetadata(header, "weights_dtype", nil) }
        let loaded = try ModelFile.load(bytes: old, source: "0.4.0 file")
        XCTAssertEqual(loaded.precision, .f32)
        XCTAssertEqual(try outputs(loaded), try outputs(original))
    }
}
