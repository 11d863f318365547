/// The model file: a safetensors file (8-byte little-endian header length, a JSON
/// header, then raw little-endian f32 tensors) that any safetensors reader can open.
/// libtextmodel's own data rides in the header's `__metadata__` (string values only):
///
///   format            "libtextmodel"           (the magic: written first, so every model
///                                              file holds the bytes
///                                              {"__metadata__":{"format":"libtextmodel",
///                                              at offset 8; files without them are refused
///                                              before their header is parsed)
///   format_version    "1" to "5"               (ModelFileFormats; newer versions are refused,
///                                              not guessed at)
///   library_version   the writer's version
///   config            the resolved config JSON
///   vocabulary        JSON array of tokens, in id order (formats 1 to 4)
///   vocabulary_tokens format 5: how many tokens the "vocabulary" tensor holds
///                     (VocabularyTensor), which is stored after the weights
///   labels            JSON array of labels, in index order (empty for regression)
///   target_scaling    regression only: {"mean": m, "std": s} of the training targets;
///                     the network predicts (y − m) / s
///   weights_dtype     "f32" (formats 1, 2), "f16" or "int8" (formats 3, 5): how the tensors
///                     are stored (WeightPrecision, WeightEncoding); an int8 file stores
///                     each matrix as I8 followed by its F32 "<name>.scale" [rows]
///   privacy           models trained with training.privacy only: the PrivacyRecord JSON
///                     (ε, δ, σ, C, sampling rate, steps, accountant); absent otherwise
///   checksum_metadata CRC-32 of every metadata value above (weights_dtype from format 3;
///                     in format 5 vocabulary_tokens stands where vocabulary stood)
///   checksum_data     CRC-32 of all tensor bytes
///
/// Tensors are named and shaped as the config's network layout says, in layout order;
/// checksum_data covers every tensor's bytes (in format 5 the vocabulary's too).
enum ModelFile {
    static let formatName = "libtextmodel"
    /// The newest format version this library reads and writes (ModelFileFormats).
    static let formatVersion = 5
    /// Headers larger than this are refused rather than parsed (a corrupted length).
    static let maxHeaderBytes = 1 << 30

    static func save(_ model: TrainedModel, to path: String, precision: WeightPrecision = .f32) throws {
        try FileIO.writeAtomically(path, parts: parts(of: model, precision: precision))
    }

    /// The file's bytes in memory, in a buffer `allocate(byteCount)` provides (malloc for
    /// the C ABI, an array's storage for Swift callers), filled with the bytes `save`
    /// writes. Returns the buffer and its length; a nil from `allocate` is a
    /// TM_ERR_RESOURCE. The weights are copied once, straight into the buffer.
    static func serialize(_ model: TrainedModel, precision: WeightPrecision = .f32,
                          allocate: (Int) -> UnsafeMutableRawPointer?) throws -> (UnsafeMutableRawPointer, Int) {
        let parts = try parts(of: model, precision: precision)
        let total = parts.reduce(0) { $0 + $1.count }
        guard let buffer = allocate(max(total, 1)) else {
            throw TextModelError.resource("out of memory serialising the model: \(FileIO.megabytes(total)) MB could not be allocated")
        }
        var offset = 0
        for part in parts {
            part.withUnsafeBytes { bytes in
                if let base = bytes.baseAddress, bytes.count > 0 { (buffer + offset).copyMemory(from: base, byteCount: bytes.count) }
                offset += bytes.count
            }
        }
        return (buffer, total)
    }

    /// Bytes `save` writes for `model`, counted without writing them.
    static func encodedSize(of model: TrainedModel, precision: WeightPrecision = .f32) throws -> Int {
        if precision == .f32 { return try parts(of: model, precision: .f32).reduce(0) { $0 + $1.count } }
        if model.network.quantizedInput != nil { throw productQuantizedPrecision(precision) }
        // Counted from the entries rather than by encoding the weights: the parts below
        // only lend their counts (their bytes, a view of the weights, are never read), and
        // the data checksum placeholder has the same 8 hex digits as the real one.
        let entries = WeightEncoding.entries(model.network.layout, precision)
        var tensors = entries.map { e in
            SafeTensors.Tensor(name: e.name, dtype: e.dtype, shape: e.shape,
                               bytes: .borrowed(UnsafeRawBufferPointer(start: UnsafeRawPointer(model.parameters.pointer), count: e.byteCount)))
        }
        tensors += vocabularyTensor(of: model, precision: precision)
        return try header(of: model, precision: precision, data: nil, tensors: tensors).reduce(0) { $0 + $1.count }
    }

    /// The pieces of a model file in order; the weights part borrows `model`'s memory,
    /// so the caller keeps `model` alive until the pieces are written.
    private static func parts(of model: TrainedModel, precision: WeightPrecision) throws -> [FileIO.Part] {
        if let quantized = model.network.quantizedInput {
            guard precision == .f32 else { throw productQuantizedPrecision(precision) }
            return QuantizedModelFile.parts(of: model, input: quantized)
        }
        let tensors: [SafeTensors.Tensor]
        if precision == .f32 && model.precision == .f32 {
            let data = UnsafeRawBufferPointer(start: UnsafeRawPointer(model.parameters.pointer), count: model.network.layout.count * 4)
            tensors = model.network.layout.tensors.map { t in
                SafeTensors.Tensor(name: t.name, dtype: "F32", shape: t.shape,
                                   bytes: .borrowed(UnsafeRawBufferPointer(rebasing: data[(t.offset * 4)..<((t.offset + t.count) * 4)])))
            }
        } else {
            tensors = try WeightEncoding.encode(model.network.layout, parameters: model.parameters.pointer,
                                                quantized: model.quantized, precision: precision)
                + vocabularyTensor(of: model, precision: precision)
        }
        var crc: UInt32 = 0
        for t in tensors { t.bytes.withUnsafeBytes { crc = CRC32.checksum($0, seed: crc) } }
        return try header(of: model, precision: precision, data: crc, tensors: tensors)
    }

    /// The vocabulary tensor of a file whose format stores one (5: the compact files).
    private static func vocabularyTensor(of model: TrainedModel, precision: WeightPrecision) -> [SafeTensors.Tensor] {
        guard ModelFileFormats.storesVocabularyTensor(ModelFileFormats.version(of: model.config, precision: precision)) else { return [] }
        let bytes = VocabularyTensor.encode(model.vocabulary.tokens)
        return [SafeTensors.Tensor(name: VocabularyTensor.name, dtype: "U8", shape: [bytes.count], bytes: bytes)]
    }

    /// The file's parts for `tensors`, whose bytes have CRC-32 `data` (nil: only counting).
    private static func header(of model: TrainedModel, precision: WeightPrecision, data: UInt32?,
                               tensors: [SafeTensors.Tensor]) throws -> [FileIO.Part] {
        let version = ModelFileFormats.version(of: model.config, precision: precision)
        let metadata = commonMetadata(of: model, version: version, dtype: precision)
            + [("checksum_data", .string(CRC32.hex(data ?? 0)))]
        return SafeTensors.encode(format: formatName, metadata: metadata, tensors: tensors)
    }

    /// The metadata every format writes, through checksum_metadata: the version, writer,
    /// config, vocabulary (format 5: its token count; the tokens are a tensor), labels,
    /// target scaling, weights_dtype (`dtype`; nil for a format that has none, such as 4)
    /// and the privacy record.
    static func commonMetadata(of model: TrainedModel, version: Int, dtype: WeightPrecision?) -> [(String, JSONValue)] {
        let config = model.config.json.serialized
        let inTensor = ModelFileFormats.storesVocabularyTensor(version)
        let vocabulary = inTensor ? String(model.vocabulary.count)
            : JSONValue.array(model.vocabulary.tokens.map { .string($0) }).serialized
        let labels = JSONValue.array(model.labels.map { .string($0) }).serialized
        let versionText = String(version)
        var metadata: [(String, JSONValue)] = [
            ("format_version", .string(versionText)),
            ("library_version", .string(LibraryVersion.string)),
            ("config", .string(config)),
            (inTensor ? "vocabulary_tokens" : "vocabulary", .string(vocabulary)),
            ("labels", .string(labels)),
        ]
        var scaling: String? = nil
        if model.task == .regression {
            scaling = JSONValue.object([("mean", .double(model.scaling.mean)), ("std", .double(model.scaling.std))]).serialized
            metadata.append(("target_scaling", .string(scaling ?? "")))
        }
        if let dtype = dtype { metadata.append(("weights_dtype", .string(dtype.name))) }
        let privacy = model.privacy.map { $0.json.serialized }
        if let privacy = privacy { metadata.append(("privacy", .string(privacy))) }
        // weights_dtype counts from format 3 on: f32 files keep the checksum 0.4.0 computes.
        let covered = dtype == nil || dtype == .f32 ? nil : dtype?.name
        let checksum = metadataChecksum(versionText, LibraryVersion.string, config, vocabulary, labels, scaling,
                                        dtype: covered, privacy: privacy)
        metadata.append(("checksum_metadata", .string(CRC32.hex(checksum))))
        return metadata
    }

    static func load(from path: String) throws -> TrainedModel {
        try load(bytes: FileIO.readAll(path), source: path)
    }

    /// Loads a model from the bytes of a model file; `path` names it in messages.
    static func load(bytes: [UInt8], source path: String) throws -> TrainedModel {
        func bad(_ why: String) -> TextModelError { .modelFormat("\(path) is not a usable libtextmodel model file: \(why)") }
        // A file long enough to hold the magic but without it is some other file: say
        // so rather than report whatever parsing it would trip over. Shorter ones are
        // refused below as truncated.
        let magic = SafeTensors.magic(format: formatName)
        if bytes.count >= 8 + magic.count && !SafeTensors.hasMagic(bytes, format: formatName) {
            throw bad("no magic \(String(decoding: magic, as: UTF8.self)) at offset 8 (it is not a libtextmodel model file: those start their metadata with format \"libtextmodel\")")
        }
        let file = try SafeTensors.open(bytes, format: formatName, maxHeaderBytes: maxHeaderBytes, bad: bad)
        let header = file.header, dataStart = file.dataStart, field = file.field
        let versionText = try field("format_version")
        guard let version = Int(versionText), version >= 1 else { throw bad("format_version \"\(versionText)\" is not a version number") }
        guard version <= formatVersion, ModelFileFormats.readable.contains(version) else {
            throw TextModelError.modelFormat("\(path) was written by a newer libtextmodel (format version \(version)); this library (\(LibraryVersion.string)) reads format version \(formatVersion): upgrade libtextmodel to load it")
        }
        let inTensor = ModelFileFormats.storesVocabularyTensor(version)
        let configText = try field("config"), labelsText = try field("labels")
        let vocabularyText = try field(inTensor ? "vocabulary_tokens" : "vocabulary")
        let writer = try field("library_version")
        let scalingText = file.optionalField("target_scaling")
        let precision = try ModelFileFormats.precision(file.optionalField("weights_dtype"), version: version, bad: bad)
        let privacyText = file.optionalField("privacy")
        let expected = CRC32.hex(metadataChecksum(versionText, writer, configText, vocabularyText, labelsText, scalingText,
                                                  dtype: precision == .f32 ? nil : precision.name, privacy: privacyText))
        guard try field("checksum_metadata") == expected else { throw bad("the metadata checksum does not match (the file is corrupted)") }

        let config: Config
        do {
            config = configText.isEmpty ? try Config(json: configText)
                : try Config(value: ModelFileFormats.config(JSONValue.parse(configText, what: "the config"), version: version))
        } catch let e as TextModelError { throw bad("its config is invalid: \(e.message)") }
        let dataChecksum = bytes.withUnsafeBytes { raw -> UInt32 in
            CRC32.checksum(UnsafeRawBufferPointer(rebasing: raw[dataStart...]))
        }
        var vocabularyBytes = 0
        let tokens: [String]
        if inTensor {
            // Where the tensor lies first (a cut file is "truncated"), then the checksum,
            // so a damaged tensor is reported as such before its tokens are read.
            let start = try vocabularyTensorStart(file: file, bytes: bytes, bad: bad)
            guard try field("checksum_data") == CRC32.hex(dataChecksum) else { throw bad("the weights checksum does not match (the file is corrupted)") }
            guard let count = Int(vocabularyText), count >= 2, String(count) == vocabularyText else {
                throw bad("its vocabulary_tokens \"\(vocabularyText)\" is not a token count")
            }
            tokens = try VocabularyTensor.decode(bytes[start...], count: count, bad: bad)
            vocabularyBytes = bytes.count - start
        } else {
            tokens = try stringArray(vocabularyText, bad: bad, what: "vocabulary")
        }
        let vocabulary: Vocabulary
        do { vocabulary = try Vocabulary(tokens: tokens) } catch let e as TextModelError { throw bad(e.message) }
        let labels = try stringArray(labelsText, bad: bad, what: "labels")
        guard Set(labels).count == labels.count else { throw bad("its labels repeat") }
        var scaling = TargetScaling.identity
        switch config.model.task {
        case .singleLabel: guard labels.count >= 2 else { throw bad("a single-label model needs at least two labels") }
        case .multiLabel: guard !labels.isEmpty else { throw bad("a multi-label model needs labels") }
        case .regression:
            guard labels.isEmpty else { throw bad("a regression model has no labels") }
            guard let text = scalingText, let value = try? JSONValue.parse(text, what: "target_scaling"),
                  let mean = value["mean"]?.doubleValue, let std = value["std"]?.doubleValue,
                  mean.isFinite, std.isFinite, std > 0 else {
                throw bad("a regression model needs target_scaling with a finite mean and a positive std")
            }
            scaling = TargetScaling(mean: mean, std: std)
        }

        if version == QuantizedModelFile.version {
            let model = try QuantizedModelFile.load(file: file, bytes: bytes, config: config, vocabulary: vocabulary,
                                                    labels: labels, scaling: scaling, bad: bad)
            return try withPrivacy(model, privacyText, bad: bad)
        }
        let network = NetworkBuilder.make(config: config, vocabularySize: vocabulary.count, labels: labels.count)
        let dataBytes = bytes.count - dataStart - vocabularyBytes
        let expectedEntries = WeightEncoding.entries(network.layout, precision)
        let needed = expectedEntries.reduce(0) { $0 + $1.byteCount }
        guard dataBytes == needed else {
            throw bad("it holds \(dataBytes) bytes of weights but its config needs \(needed) as \(precision.name) (truncated or corrupted)")
        }
        guard case .object(let entries) = header, entries.count == expectedEntries.count + (inTensor ? 2 : 1) else {
            throw bad("the header lists other tensors than the model needs")
        }
        var position = 0
        for t in expectedEntries {
            guard let entry = header[t.name],
                  entry["dtype"]?.stringValue == t.dtype,
                  let shape = entry["shape"]?.arrayValue, shape.count == t.shape.count,
                  zip(shape, t.shape).allSatisfy({ $0.doubleValue == Double($1) }),
                  let offsets = entry["data_offsets"]?.arrayValue, offsets.count == 2,
                  offsets[0].doubleValue == Double(position),
                  offsets[1].doubleValue == Double(position + t.byteCount) else {
                throw bad("tensor \(t.name) is missing or has the wrong type, shape or position (\(precision == .int8 ? "an" : "a") \(precision.name) file stores it as \(t.dtype) \(t.shape))")
            }
            position += t.byteCount
        }
        let parameters = try FloatBuffer.allocate(count: network.layout.count, what: "the model's weights", hugePages: true)
        guard try field("checksum_data") == CRC32.hex(dataChecksum) else { throw bad("the weights checksum does not match (the file is corrupted)") }
        let quantized = try bytes.withUnsafeBytes { raw in
            try WeightEncoding.decode(UnsafeRawBufferPointer(rebasing: raw[dataStart...]), layout: network.layout,
                                      precision: precision, into: parameters.pointer, bad: bad)
        }
        for i in 0..<network.layout.count where !parameters.pointer[i].isFinite {
            throw bad("weight \(i) is not a finite number")
        }
        let model = TrainedModel(config: config, vocabulary: vocabulary, labels: labels, scaling: scaling, network: network,
                                 parameters: parameters, precision: precision, quantized: quantized)
        return try withPrivacy(model, privacyText, bad: bad)
    }

    /// Where a format-5 file's "vocabulary" tensor, the last tensor, starts in `bytes`.
    private static func vocabularyTensorStart(file: SafeTensors.File, bytes: [UInt8],
                                              bad: (String) -> TextModelError) throws -> Int {
        let dataBytes = bytes.count - file.dataStart
        guard let entry = file.header[VocabularyTensor.name], entry["dtype"]?.stringValue == "U8",
              let shape = entry["shape"]?.arrayValue, shape.count == 1, let length = shape[0].doubleValue,
              let offsets = entry["data_offsets"]?.arrayValue, offsets.count == 2,
              let begin = offsets[0].doubleValue, let end = offsets[1].doubleValue,
              begin >= 0, begin.rounded() == begin, begin <= end, end - begin == length else {
            throw bad("tensor \(VocabularyTensor.name) is missing or is not the U8 vector after the weights that format 5 stores")
        }
        guard end == Double(dataBytes), begin <= Double(dataBytes) else {
            throw bad("its tensors end at byte \(end) of the data, but the file holds \(dataBytes) (truncated or corrupted)")
        }
        return file.dataStart + Int(begin)
    }

    /// `model` with the privacy record of its file's metadata (`text`), if it has one.
    private static func withPrivacy(_ model: TrainedModel, _ text: String?, bad: (String) -> TextModelError) throws -> TrainedModel {
        if let text = text {
            do { model.privacy = try PrivacyRecord(json: JSONValue.parse(text, what: "the privacy record")) }
            catch let e as TextModelError { throw bad(e.message) }
        }
        return model
    }

    /// A product-quantized bag model (format 4) keeps its codebooks and f32 output layer:
    /// it has no f16 or int8 form.
    private static func productQuantizedPrecision(_ precision: WeightPrecision) -> TextModelError {
        .invalidArgument("a product-quantized bag model is saved as it is (its embeddings are PQ codes, its output layer f32); it has no \(precision.name) form: save it with dtype f32, or convert the model before quantizing it")
    }

    static func metadataChecksum(_ version: String, _ writer: String, _ config: String,
                                         _ vocabulary: String, _ labels: String, _ scaling: String?,
                                         dtype: String? = nil, privacy: String? = nil) -> UInt32 {
        var bytes = [UInt8]()
        // The privacy record, when there is one, is named in the sum (it came later).
        let tail = (scaling.map { [$0] } ?? []) + (dtype.map { [$0] } ?? []) + (privacy.map { ["privacy", $0] } ?? [])
        for part in [formatName, version, writer, config, vocabulary, labels] + tail {
            bytes.append(contentsOf: part.utf8)
            bytes.append(0)
        }
        return CRC32.checksum(bytes)
    }

    private static func stringArray(_ text: String, bad: (String) -> TextModelError, what: String) throws -> [String] {
        guard let value = try? JSONValue.parse(text, what: what), let items = value.arrayValue else {
            throw bad("its \(what) is not a JSON array")
        }
        return try items.map { item -> String in
            guard let s = item.stringValue else { throw bad("its \(what) holds a non-string") }
            return s
        }
    }
}
