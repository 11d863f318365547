// Fuzz target: Model.load(bytes:) (ModelFile: safetensors header, metadata,
// checksums, config, vocabulary (JSON, or format 5's tensor), labels, tensor table, weights), then prediction with
// whatever model loaded.
//
// Every input is tried twice:
//  1. as is — the checks up to and including the CRC-32 checksums;
//  2. with its checksums repaired — the header is parsed, checksum_metadata and
//     checksum_data are recomputed for the mutated content and the file is rebuilt, so
//     the fuzzer also reaches the code behind the checksums (config, vocabulary,
//     labels, tensor table, non-finite weights, prediction).
// A model that loads must predict a few texts without crashing, and every predicted
// row must be a probability distribution (finite, in [0, 1], summing to 1); turn that
// check off with FUZZ_CHECK_PROBABILITIES=0 (needed before commit f4e09eb, whose softmax
// returned NaN for overflowing scores: see findings/FuzzModelFile/NOTES.md).
import FuzzSupport
import TextModel
#if canImport(Glibc)
import Glibc
#endif

private let checkProbabilities = getenv("FUZZ_CHECK_PROBABILITIES") == nil || environmentFlag("FUZZ_CHECK_PROBABILITIES")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzInput(data, size)
    let repaired = repairChecksums(bytes)  // also sets currentVocabulary
    tryLoad(bytes)
    if let repaired = repaired, repaired != bytes {
        if let path = getenv("FUZZ_DUMP_REPAIRED") {  // to replay a finding without this harness
            if let f = fopen(path, "wb") { _ = repaired.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }; fclose(f) }
        }
        tryLoad(repaired)
    }
    return 0
}

private func tryLoad(_ bytes: [UInt8]) {
    var model: Model?
    expectOnlyTextModelErrors("load(bytes:)") { model = try Model.load(bytes: bytes, source: "fuzz-model") }
    guard let m = model else { return }
    exercise(m)
}

/// Predicts a few texts, including one made of every vocabulary token (so every
/// embedding row the file holds is used) and ones with no known token at all.
private func exercise(_ model: Model) {
    let labels = model.labels
    require(model.isTrained, "a loaded model is not trained")
    var texts = ["", "   ", "hello world", "zzzz qqqq", "👍🏽 emoji \u{FFFD} text", "see https://example.com/a?b=c now",
                 String(repeating: "word ", count: 40)]
    texts.append(vocabularyText(model))
    switch model.task {
    case .regression:
        require(labels.isEmpty, "a loaded regression model has \(labels.count) labels")
        var values = [Float]()
        expectOnlyTextModelErrors("predictValues") { values = try model.predictValues(texts) }
        require(values.count == texts.count, "predictValues returned \(values.count) values for \(texts.count) texts")
        var set = LabelledTexts()
        set.append(text: texts[2], label: "1.5")
        set.append(text: texts[7].isEmpty ? "x" : texts[7], label: "-3")
        expectOnlyTextModelErrors("evaluate") { _ = try model.evaluate(set) }
        return
    case .multiLabel:
        require(!labels.isEmpty, "a loaded multi-label model has no labels")
    case .singleLabel:
        require(labels.count >= 2, "a loaded model has \(labels.count) labels")
    }
    let c = labels.count
    var probabilities = [Float]()
    expectOnlyTextModelErrors("predictProbabilities") { probabilities = try model.predictProbabilities(texts) }
    require(probabilities.count == texts.count * c, "predictProbabilities returned \(probabilities.count) values for \(texts.count) × \(c)")
    if environmentFlag("FUZZ_VERBOSE") {
        print("loaded: \(c) labels, vocabulary \(model.vocabularySize), model \(model.config.model.type.rawValue); probabilities \(probabilities)")
    }
    if checkProbabilities {
        for i in 0..<texts.count {
            let row = probabilities[(i * c)..<((i + 1) * c)]
            let sum = row.reduce(0, +)
            // Multi-label probabilities are each label's own: no sum to check.
            require(row.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 } && (model.task == .multiLabel || abs(sum - 1) < 1e-3),
                    "text \(i): probabilities \(Array(row)) are not a distribution")
        }
    }
    for k in Set([1, c]) {
        var ids = [Int32](repeating: -1, count: texts.count * k)
        var probs = [Float](repeating: -1, count: texts.count * k)
        expectOnlyTextModelErrors("predictTopK") {
            try ids.withUnsafeMutableBufferPointer { i in
                try probs.withUnsafeMutableBufferPointer { p in
                    try model.predictTopK(texts, k: k, labels: i.baseAddress!, probabilities: p.baseAddress!)
                }
            }
        }
        for id in ids { require(id >= 0 && Int(id) < c, "predictTopK returned label index \(id) of \(c)") }
    }
    // Evaluate on a two-row set labelled with the model's own labels.
    var set = LabelledTexts()
    set.append(text: texts[2], label: labels[0])
    set.append(text: texts[7].isEmpty ? "x" : texts[7], label: labels[c - 1])
    expectOnlyTextModelErrors("evaluate") { _ = try model.evaluate(set) }
}

/// A text holding the model's vocabulary tokens (bounded, so huge vocabularies stay fast).
/// Model exposes only `vocabularySize`, so the tokens come from the header of
/// the current input, as repairChecksums parsed it.
private func vocabularyText(_ model: Model) -> String {
    currentVocabulary.prefix(512).joined(separator: " ")
}

/// Tokens of the vocabulary in the current input's header (empty if it has none).
private var currentVocabulary: [String] = []

// MARK: checksum repair

/// The model file with checksum_metadata and checksum_data recomputed for its content,
/// or nil when its header is not a JSON object with a __metadata__ object holding the
/// fields the checksum covers (the loader refuses those before the checksum anyway).
private func repairChecksums(_ bytes: [UInt8]) -> [UInt8]? {
    currentVocabulary = []
    guard bytes.count >= 8 else { return nil }
    var length: UInt64 = 0
    for i in (0..<8).reversed() { length = length << 8 | UInt64(bytes[i]) }
    guard length <= UInt64(bytes.count - 8) else { return nil }
    let dataStart = 8 + Int(length)
    let headerText = String(decoding: bytes[8..<dataStart], as: UTF8.self)
    guard let header = try? JSONValue.parse(headerText, what: "header"),
          var entries = header.objectValue,
          let metaIndex = entries.lastIndex(where: { $0.0 == "__metadata__" }),
          var meta = entries[metaIndex].1.objectValue else { return nil }
    func field(_ key: String) -> String? { meta.last(where: { $0.0 == key })?.1.stringValue }
    guard let version = field("format_version"), let writer = field("library_version"),
          let config = field("config"), let labels = field("labels"),
          let vocabulary = field("vocabulary") ?? field("vocabulary_tokens") else { return nil }
    if let tokens = try? JSONValue.parse(vocabulary, what: "vocabulary").arrayValue {
        currentVocabulary = tokens.compactMap { $0.stringValue }
    } else if let count = Int(vocabulary), count >= 0, count <= 1 << 20,   // format 5: a tensor, the last one
              let offsets = header["vocabulary"]?["data_offsets"]?.arrayValue, offsets.count == 2,
              let begin = offsets[0].doubleValue, begin >= 0, begin <= Double(bytes.count - dataStart) {
        currentVocabulary = FuzzingEntryPoints.vocabularyTensor(bytes[(dataStart + Int(begin))...], count: count) ?? []
    }
    var covered = [UInt8]()
    // As ModelFile.metadataChecksum: then target_scaling (regression), then, from format
    // 3 (f16 and int8 weights), weights_dtype. Format 5 sums vocabulary_tokens where
    // the others sum the JSON vocabulary; checksum_data covers its vocabulary tensor.
    var parts = ["libtextmodel", version, writer, config, vocabulary, labels]
    if let scaling = field("target_scaling") { parts.append(scaling) }
    if (Int(version) ?? 0) >= 3, let dtype = field("weights_dtype") { parts.append(dtype) }
    for part in parts {
        covered.append(contentsOf: part.utf8)
        covered.append(0)
    }
    setField(&meta, "checksum_metadata", crc32Hex(covered[...]))
    setField(&meta, "checksum_data", crc32Hex(bytes[dataStart...]))
    // Format 4 (product-quantized bag models): the compression parameters' own CRC.
    if let compression = field("compression"), let pq = field("pq") {
        setField(&meta, "checksum_compression", crc32Hex((Array(compression.utf8) + [0] + Array(pq.utf8) + [0])[...]))
    }
    entries[metaIndex].1 = .object(meta)
    var headerBytes = Array(JSONValue.object(entries).serialized.utf8)
    while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
    var out = [UInt8]()
    out.reserveCapacity(8 + headerBytes.count + bytes.count - dataStart)
    var n = UInt64(headerBytes.count)
    for _ in 0..<8 { out.append(UInt8(n & 0xFF)); n >>= 8 }
    out += headerBytes
    out += bytes[dataStart...]
    return out
}


/// Entry point SwiftPM links as main() (see FuzzSupport.runLibFuzzer). With
/// FUZZ_WRITE_SEEDS=<dir> in the environment it writes the seed models instead.
@_cdecl("FuzzModelFile_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    if let dir = getenv("FUZZ_WRITE_SEEDS") { return writeSeedModels(to: String(cString: dir)) }
    return runLibFuzzer(argc, argv, fuzz)
}

// MARK: seed models

/// Tiny configs (embedding 4, hidden 4, a dozen words) so the fuzzer mutates small
/// files: each variant exercises another part of the loader and the forward pass.
private let seedConfigs: [(name: String, json: String)] = [
    ("lstm-max", #"{"tokenizer":{"min_freq":1,"max_size":16,"max_length":16},"model":{"type":"lstm","embedding_dim":4,"hidden_dim":4,"pooling":"max"},"training":{"epochs":2,"batch_size":4,"threads":1,"seed":7}}"#),
    ("lstm-2layer-mean-cased", #"{"tokenizer":{"lowercase":false,"replace_urls":false,"min_freq":1,"max_size":12,"max_length":8},"model":{"type":"lstm","embedding_dim":4,"hidden_dim":3,"layers":2,"pooling":"mean"},"training":{"optimizer":"sgd","learning_rate":0.1,"epochs":1,"batch_size":3,"threads":1}}"#),
    ("lstm-last", #"{"tokenizer":{"min_freq":1,"max_size":10,"max_length":5},"model":{"type":"lstm","embedding_dim":2,"hidden_dim":2,"pooling":"last"},"training":{"epochs":1,"batch_size":8,"threads":1}}"#),
    // The ones below need a library that knows these model types and keys; an older one skips them.
    ("bag-ngrams", #"{"tokenizer":{"min_freq":1,"max_size":12,"max_length":16,"word_ngrams":2,"buckets":8},"model":{"type":"bag","embedding_dim":4,"hidden_dim":4},"training":{"epochs":1,"batch_size":4,"threads":1}}"#),
    ("bag-charngrams", #"{"tokenizer":{"min_freq":1,"max_size":8,"max_length":16,"char_ngrams_min":2,"char_ngrams_max":3,"buckets":6},"model":{"type":"bag","embedding_dim":3},"training":{"epochs":1,"batch_size":4,"threads":1}}"#),
    ("gru-bidirectional", #"{"tokenizer":{"min_freq":1,"max_size":10,"max_length":8},"model":{"type":"gru","embedding_dim":3,"hidden_dim":2,"bidirectional":true,"dropout":0.2,"pooling":"last"},"training":{"epochs":1,"batch_size":4,"threads":1}}"#),
    ("rnn-2layer", #"{"tokenizer":{"min_freq":1,"max_size":10,"max_length":8},"model":{"type":"rnn","embedding_dim":3,"hidden_dim":2,"layers":2,"pooling":"mean"},"training":{"epochs":1,"batch_size":4,"threads":1}}"#),
    ("cnn", #"{"tokenizer":{"min_freq":1,"max_size":10,"max_length":8},"model":{"type":"cnn","embedding_dim":3,"kernel_sizes":[1,3],"filters":2},"training":{"epochs":1,"batch_size":4,"threads":1}}"#),
    ("bag-multilabel", #"{"tokenizer":{"min_freq":1,"max_size":10,"max_length":8},"model":{"type":"bag","task":"multi_label","threshold":0.4,"embedding_dim":3},"training":{"epochs":1,"batch_size":4,"threads":1}}"#),
    ("lstm-regression", #"{"tokenizer":{"min_freq":1,"max_size":10,"max_length":8},"model":{"type":"lstm","task":"regression","embedding_dim":3,"hidden_dim":2},"training":{"epochs":1,"batch_size":4,"threads":1}}"#),
    ("transformer", #"{"tokenizer":{"min_freq":1,"max_size":10,"max_length":8},"model":{"type":"transformer","embedding_dim":4,"heads":2,"hidden_dim":4,"layers":1},"training":{"epochs":1,"batch_size":4,"threads":1}}"#),
]

/// Seeds also written with compact weights (format 3, "model-<name>-<dtype>"): int8
/// files hold I8 matrices and their F32 ".scale" tensors, f16 files F16 tensors.
private let compactSeeds: [String: [WeightPrecision]] = [
    "lstm-max": [.int8, .f16], "bag-ngrams": [.int8], "cnn": [.int8], "gru-bidirectional": [.int8, .f16],
    "rnn-2layer": [.int8], "lstm-regression": [.int8], "transformer": [.int8, .f16],
]

/// A seed text's label as the seed model's task needs it: several labels for the
/// multi-label seed, a number for the regression one.
private func seedLabel(_ label: String, text: String, model name: String) -> String {
    if name.hasSuffix("-multilabel") { return text.contains("fun") || text.contains("ok") ? label + "|fun" : label }
    if name.hasSuffix("-regression") { return label == "pos" ? "4.5" : label == "neg" ? "-1.25" : String(text.count) }
    return label
}

private let seedTexts: [(String, String)] = [
    ("good great fun 👍", "pos"), ("great movie, loved it", "pos"), ("fun fun fun www.example.com", "pos"),
    ("bad awful boring", "neg"), ("awful plot; bad acting", "neg"), ("boring and bad http://x.y/z", "neg"),
    ("it was ok I guess", "meh"), ("ok ok, not great not bad", "meh"), ("don't know: ok", "meh"),
]

private func writeSeedModels(to dir: String) -> CInt {
    var written = 0
    for (name, json) in seedConfigs {
        do {
            let classifier = Model(config: try Config(json: json))
            var data = LabelledTexts()
            // Two labels for the first model (the smallest header), three for the others.
            for (text, label) in seedTexts where name != "lstm-max" || label != "meh" {
                data.append(text: text, label: seedLabel(label, text: text, model: name))
            }
            try classifier.train(data)
            let path = dir + "/model-" + name
            try classifier.save(to: path)
            // The seed must load back, or it is no seed.
            _ = try Model.load(from: path)
            print("wrote \(path)")
            written += 1
            for precision in compactSeeds[name] ?? [] {
                let compact = path + "-" + precision.name
                try classifier.save(to: compact, precision: precision)
                _ = try Model.load(from: compact)
                print("wrote \(compact)")
            }
        } catch {
            print("skipped \(name): \(error)")
        }
    }
    written += writeQuantizedSeed(to: dir) ? 1 : 0
    return written > 0 ? 0 : 1
}

/// model-bag-pq: the bag-ngrams seed, product-quantized with quantized norms (format 4).
private func writeQuantizedSeed(to dir: String) -> Bool {
    guard let json = seedConfigs.first(where: { $0.name == "bag-ngrams" })?.json else { return false }
    do {
        let classifier = Model(config: try Config(json: json))
        var data = LabelledTexts()
        for (text, label) in seedTexts { data.append(text: text, label: label) }
        try classifier.train(data)
        var options = QuantizeOptions()
        options.qnorm = true
        options.cutoff = 12
        let path = dir + "/model-bag-pq"
        try classifier.quantized(options).save(to: path)
        _ = try Model.load(from: path)
        print("wrote \(path)")
        return true
    } catch {
        print("skipped bag-pq: \(error)")
        return false
    }
}
