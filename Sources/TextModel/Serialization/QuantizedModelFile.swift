/// Model-file format 4: a product-quantized bag model (ModelFileFormats). The same
/// safetensors container and metadata as ModelFile, plus
///
///   compression           "pq"
///   pq                    JSON {"dim", "dsub", "subspaces", "centroids", "rows",
///                         "kept_rows", "norm_centroids" (0: no qnorm)}
///   checksum_compression  CRC-32 of the two values above (each followed by a zero byte)
///
/// and these tensors, back to back in this order (checksum_data covers all their bytes):
///
///   output.weight      F32 [C × E]
///   output.bias        F32 [C]
///   pq.kept_ids        I32 [K]                       increasing, each < rows
///   pq.codebooks       F32 [M × centroids × dsub]    finite
///   pq.codes           U8  [K × M]                   each < centroids
///   pq.norm_codebook   F32 [norm_centroids]          (qnorm only) finite
///   pq.norm_codes      U8  [K]                       (qnorm only) each < norm_centroids
enum QuantizedModelFile {
    static let version = 4

    /// The parts ModelFile writes for a model with a QuantizedBagInput.
    static func parts(of model: TrainedModel, input q: QuantizedBagInput) -> [FileIO.Part] {
        // The common metadata (its checksum covers the privacy record too), then the codebook's.
        var metadata = ModelFile.commonMetadata(of: model, version: version, dtype: nil)
        let pq = parameters(q).serialized
        metadata.append(("compression", .string("pq")))
        metadata.append(("pq", .string(pq)))
        metadata.append(("checksum_compression", .string(CRC32.hex(compressionChecksum("pq", pq)))))

        let network = model.network, p = model.parameters.pointer
        var tensors = [
            SafeTensors.Tensor(name: "output.weight", dtype: "F32", shape: network.outputWeight.shape,
                               bytes: [UInt8](rawBytesOf: p + network.outputWeight.offset, count: network.outputWeight.count)),
            SafeTensors.Tensor(name: "output.bias", dtype: "F32", shape: network.outputBias.shape,
                               bytes: [UInt8](rawBytesOf: p + network.outputBias.offset, count: network.outputBias.count)),
            SafeTensors.Tensor(name: "pq.kept_ids", dtype: "I32", shape: [q.kept],
                               bytes: q.keptIDs.withUnsafeBufferPointer { [UInt8](rawBytesOf: $0.baseAddress!, count: q.kept) }),
            SafeTensors.Tensor(name: "pq.codebooks", dtype: "F32",
                               shape: [q.quantizer.subspaces, q.quantizer.ksub, q.quantizer.dsub],
                               bytes: q.quantizer.codebooks.withUnsafeBufferPointer { [UInt8](rawBytesOf: $0.baseAddress!, count: $0.count) }),
            SafeTensors.Tensor(name: "pq.codes", dtype: "U8", shape: [q.kept, q.quantizer.subspaces], bytes: q.codes),
        ]
        if let book = q.normCodebook, let codes = q.normCodes {
            tensors.append(SafeTensors.Tensor(name: "pq.norm_codebook", dtype: "F32", shape: [book.count],
                                              bytes: book.withUnsafeBufferPointer { [UInt8](rawBytesOf: $0.baseAddress!, count: $0.count) }))
            tensors.append(SafeTensors.Tensor(name: "pq.norm_codes", dtype: "U8", shape: [codes.count], bytes: codes))
        }
        var data = [UInt8]()
        for t in tensors { if case .owned(let b) = t.bytes { data.append(contentsOf: b) } }
        metadata.append(("checksum_data", .string(CRC32.hex(CRC32.checksum(data)))))
        return SafeTensors.encode(format: ModelFile.formatName, metadata: metadata, tensors: tensors)
    }

    private static func parameters(_ q: QuantizedBagInput) -> JSONValue {
        .object([
            ("dim", .int(Int64(q.dim))), ("dsub", .int(Int64(q.quantizer.dsub))),
            ("subspaces", .int(Int64(q.quantizer.subspaces))), ("centroids", .int(Int64(q.quantizer.ksub))),
            ("rows", .int(Int64(q.rows))), ("kept_rows", .int(Int64(q.kept))),
            ("norm_centroids", .int(Int64(q.normCodebook?.count ?? 0))),
        ])
    }

    static func compressionChecksum(_ compression: String, _ pq: String) -> UInt32 {
        CRC32.checksum(Array(compression.utf8) + [0] + Array(pq.utf8) + [0])
    }

    /// The model of an opened format-4 file whose common metadata ModelFile has read
    /// and checked (config, vocabulary, labels, scaling). Every inconsistency is `bad`.
    static func load(file: SafeTensors.File, bytes: [UInt8], config: Config, vocabulary: Vocabulary, labels: [String],
                     scaling: TargetScaling, bad: (String) -> TextModelError) throws -> TrainedModel {
        let compression = try file.field("compression")
        guard compression == "pq" else { throw bad("its compression \"\(compression)\" is not one this library knows (\"pq\")") }
        let pqText = try file.field("pq")
        guard try file.field("checksum_compression") == CRC32.hex(compressionChecksum(compression, pqText)) else {
            throw bad("the compression metadata checksum does not match (the file is corrupted)")
        }
        guard config.model.type == .bag else { throw bad("a product-quantized file must hold a bag model, not \(config.model.type.rawValue)") }
        guard let pq = try? JSONValue.parse(pqText, what: "pq") else { throw bad("its pq parameters are not JSON") }
        func integer(_ key: String, _ range: ClosedRange<Int>) throws -> Int {
            guard case .int(let v)? = pq[key], v >= Int64(range.lowerBound), v <= Int64(range.upperBound) else {
                throw bad("its pq parameter \(key) is missing or not an integer in \(range.lowerBound)...\(range.upperBound)")
            }
            return Int(v)
        }
        let e = config.model.embeddingDim
        let rows = vocabulary.count + config.tokenizer.hashedFeatures
        guard try integer("dim", 1...Int(Int32.max)) == e else { throw bad("its pq dim is not the config's embedding_dim \(e)") }
        let dsub = try integer("dsub", 1...e)
        guard e % dsub == 0 else { throw bad("its pq dsub \(dsub) does not divide embedding_dim \(e)") }
        let m = e / dsub
        guard try integer("subspaces", 1...e) == m else { throw bad("its pq subspaces is not embedding_dim / dsub = \(m)") }
        let ksub = try integer("centroids", 1...ProductQuantizer.maxCentroids)
        guard try integer("rows", 1...Int(Int32.max)) == rows else { throw bad("its pq rows is not the vocabulary and buckets' \(rows)") }
        let kept = try integer("kept_rows", 1...rows)
        let normK = try integer("norm_centroids", 0...ProductQuantizer.maxCentroids)

        let network0 = NetworkBuilder.make(config: config, vocabularySize: vocabulary.count, labels: labels.count)
        let c = network0.classes
        var expected: [(String, String, [Int], Int)] = [
            ("output.weight", "F32", [c, e], 4), ("output.bias", "F32", [c], 4), ("pq.kept_ids", "I32", [kept], 4),
            ("pq.codebooks", "F32", [m, ksub, dsub], 4), ("pq.codes", "U8", [kept, m], 1),
        ]
        if normK > 0 { expected += [("pq.norm_codebook", "F32", [normK], 4), ("pq.norm_codes", "U8", [kept], 1)] }
        guard case .object(let entries) = file.header, entries.count == expected.count + 1 else {
            throw bad("the header lists other tensors than a product-quantized bag model of this config needs")
        }
        var offset = 0
        var slices = [ArraySlice<UInt8>]()
        for (name, dtype, shape, width) in expected {
            let byteCount = shape.reduce(1, *) * width
            guard let entry = file.header[name], entry["dtype"]?.stringValue == dtype,
                  let given = entry["shape"]?.arrayValue, given.count == shape.count,
                  zip(given, shape).allSatisfy({ $0.doubleValue == Double($1) }),
                  let offsets = entry["data_offsets"]?.arrayValue, offsets.count == 2,
                  offsets[0].doubleValue == Double(offset), offsets[1].doubleValue == Double(offset + byteCount) else {
                throw bad("tensor \(name) is missing or has the wrong type, shape or position (expected \(dtype) \(shape))")
            }
            guard file.dataStart + offset + byteCount <= bytes.count else { throw bad("tensor \(name) runs past the end of the file (truncated)") }
            slices.append(bytes[(file.dataStart + offset)..<(file.dataStart + offset + byteCount)])
            offset += byteCount
        }
        guard bytes.count - file.dataStart == offset else {
            throw bad("it holds \(bytes.count - file.dataStart) bytes of tensors but its header describes \(offset) (truncated or corrupted)")
        }
        let checksum = CRC32.checksum(Array(bytes[file.dataStart...]))
        guard try file.field("checksum_data") == CRC32.hex(checksum) else { throw bad("the weights checksum does not match (the file is corrupted)") }

        let weights = floats(slices[0]) + floats(slices[1])
        guard weights.allSatisfy({ $0.isFinite }) else { throw bad("an output weight is not a finite number") }
        let ids = int32s(slices[2])
        for (i, id) in ids.enumerated() where id < 0 || Int(id) >= rows || (i > 0 && id <= ids[i - 1]) {
            throw bad("pq.kept_ids[\(i)] = \(id) is not an increasing row id below \(rows)")
        }
        let codebooks = floats(slices[3])
        guard codebooks.allSatisfy({ $0.isFinite }) else { throw bad("a pq.codebooks centroid is not a finite number") }
        let codes = Array(slices[4])
        if let bad0 = codes.firstIndex(where: { Int($0) >= ksub }) {
            throw bad("pq.codes[\(bad0)] = \(codes[bad0]) is out of range: there are \(ksub) centroids")
        }
        var normBook: [Float]? = nil, normCodes: [UInt8]? = nil
        if normK > 0 {
            let book = floats(slices[5])
            guard book.allSatisfy({ $0.isFinite }) else { throw bad("a pq.norm_codebook value is not a finite number") }
            let n = Array(slices[6])
            if let bad0 = n.firstIndex(where: { Int($0) >= normK }) {
                throw bad("pq.norm_codes[\(bad0)] = \(n[bad0]) is out of range: there are \(normK) norm centroids")
            }
            normBook = book
            normCodes = n
        }
        let input = QuantizedBagInput(rows: rows, keptIDs: ids, quantizer: ProductQuantizer(dim: e, dsub: dsub, ksub: ksub, codebooks: codebooks),
                                      codes: codes, normCodebook: normBook, normCodes: normCodes)
        let network = NetworkBuilder.quantizedBag(config: config, classes: c, input: input)
        let parameters = try FloatBuffer.allocate(count: network.layout.count, what: "the model's output layer")
        weights.withUnsafeBufferPointer { w in
            (parameters.pointer + network.outputWeight.offset).update(from: w.baseAddress!, count: network.outputWeight.count)
            (parameters.pointer + network.outputBias.offset).update(from: w.baseAddress! + network.outputWeight.count,
                                                                    count: network.outputBias.count)
        }
        return TrainedModel(config: config, vocabulary: vocabulary, labels: labels, scaling: scaling, network: network,
                            parameters: parameters)
    }

    private static func floats(_ bytes: ArraySlice<UInt8>) -> [Float] {
        var out = [Float](repeating: 0, count: bytes.count / 4)
        out.withUnsafeMutableBytes { o in bytes.withUnsafeBytes { i in o.copyMemory(from: i) } }
        return out
    }

    private static func int32s(_ bytes: ArraySlice<UInt8>) -> [Int32] {
        var out = [Int32](repeating: 0, count: bytes.count / 4)
        out.withUnsafeMutableBytes { o in bytes.withUnsafeBytes { i in o.copyMemory(from: i) } }
        return out
    }
}
