// Config: documented defaults, resolved-JSON round trip, and every kind of invalid input
// (unknown keys with their path, wrong types, out-of-range values, malformed JSON).
#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import TextModel

private extension String {
    var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}

final class ConfigTests: XCTestCase {

    /// Field-by-field equality (Config is not Equatable; comparing serialisations would
    /// hide a field that `json` forgets to write).
    private func assertSameConfig(_ a: Config, _ b: Config, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.tokenizer.lowercase, b.tokenizer.lowercase, "tokenizer.lowercase", file: file, line: line)
        XCTAssertEqual(a.tokenizer.replaceURLs, b.tokenizer.replaceURLs, "tokenizer.replace_urls", file: file, line: line)
        XCTAssertEqual(a.tokenizer.minFreq, b.tokenizer.minFreq, "tokenizer.min_freq", file: file, line: line)
        XCTAssertEqual(a.tokenizer.maxSize, b.tokenizer.maxSize, "tokenizer.max_size", file: file, line: line)
        XCTAssertEqual(a.tokenizer.maxLength, b.tokenizer.maxLength, "tokenizer.max_length", file: file, line: line)
        XCTAssertEqual(a.tokenizer.wordNgrams, b.tokenizer.wordNgrams, "tokenizer.word_ngrams", file: file, line: line)
        XCTAssertEqual(a.tokenizer.buckets, b.tokenizer.buckets, "tokenizer.buckets", file: file, line: line)
        XCTAssertEqual(a.model.type, b.model.type, "model.type", file: file, line: line)
        XCTAssertEqual(a.model.task, b.model.task, "model.task", file: file, line: line)
        XCTAssertEqual(a.model.threshold, b.model.threshold, "model.threshold", file: file, line: line)
        XCTAssertEqual(a.data.labelSeparator, b.data.labelSeparator, "data.label_separator", file: file, line: line)
        XCTAssertEqual(a.training.checkpointPath, b.training.checkpointPath, "training.checkpoint_path", file: file, line: line)
        XCTAssertEqual(a.training.resume, b.training.resume, "training.resume", file: file, line: line)
        XCTAssertEqual(a.model.embeddingDim, b.model.embeddingDim, "model.embedding_dim", file: file, line: line)
        XCTAssertEqual(a.model.hiddenDim, b.model.hiddenDim, "model.hidden_dim", file: file, line: line)
        XCTAssertEqual(a.model.layers, b.model.layers, "model.layers", file: file, line: line)
        XCTAssertEqual(a.model.pooling, b.model.pooling, "model.pooling", file: file, line: line)
        XCTAssertEqual(a.training.optimizer, b.training.optimizer, "training.optimizer", file: file, line: line)
        XCTAssertEqual(a.training.learningRate, b.training.learningRate, "training.learning_rate", file: file, line: line)
        XCTAssertEqual(a.training.momentum, b.training.momentum, "training.momentum", file: file, line: line)
        XCTAssertEqual(a.training.beta1, b.training.beta1, "training.beta1", file: file, line: line)
        XCTAssertEqual(a.training.beta2, b.training.beta2, "training.beta2", file: file, line: line)
        XCTAssertEqual(a.training.epsilon, b.training.epsilon, "training.epsilon", file: file, line: line)
        XCTAssertEqual(a.training.batchSize, b.training.batchSize, "training.batch_size", file: file, line: line)
        XCTAssertEqual(a.training.epochs, b.training.epochs, "training.epochs", file: file, line: line)
        XCTAssertEqual(a.training.seed, b.training.seed, "training.seed", file: file, line: line)
        XCTAssertEqual(a.training.threads, b.training.threads, "training.threads", file: file, line: line)
        XCTAssertEqual(a.training.progressEvery, b.training.progressEvery, "training.progress_every", file: file, line: line)
        XCTAssertEqual(a.training.maxMemoryMB, b.training.maxMemoryMB, "training.max_memory_mb", file: file, line: line)
        XCTAssertEqual(a.training.lrSchedule, b.training.lrSchedule, "training.lr_schedule", file: file, line: line)
        XCTAssertEqual(a.training.warmupSteps, b.training.warmupSteps, "training.warmup_steps", file: file, line: line)
        XCTAssertEqual(a.training.lrStepEpochs, b.training.lrStepEpochs, "training.lr_step_epochs", file: file, line: line)
        XCTAssertEqual(a.training.lrStepFactor, b.training.lrStepFactor, "training.lr_step_factor", file: file, line: line)
        XCTAssertEqual(a.data.format, b.data.format, "data.format", file: file, line: line)
        XCTAssertEqual(a.data.textColumn, b.data.textColumn, "data.text_column", file: file, line: line)
        XCTAssertEqual(a.data.labelColumn, b.data.labelColumn, "data.label_column", file: file, line: line)
    }

    /// Every key set away from its default.
    private func unusualConfig() -> Config {
        var c = Config()
        c.tokenizer.lowercase = false
        c.tokenizer.replaceURLs = false
        c.tokenizer.minFreq = 3
        c.tokenizer.maxSize = 1234
        c.tokenizer.maxLength = 77
        c.model.embeddingDim = 33
        c.model.hiddenDim = 17
        c.model.layers = 3
        c.model.pooling = .max
        c.training.optimizer = .sgd
        c.training.learningRate = 0.0123
        c.training.momentum = 0.85
        c.training.beta1 = 0.8
        c.training.beta2 = 0.95
        c.training.epsilon = 3e-7
        c.training.batchSize = 7
        c.training.epochs = 11
        c.training.seed = 1 << 53
        c.training.threads = 3
        c.training.progressEvery = 9
        c.training.maxMemoryMB = 100
        c.data.format = .csv
        c.data.textColumn = "body ✓ \"quoted\" \\ tab\t"
        c.data.labelColumn = "y"
        c.data.labelSeparator = ";"
        c.model.task = .multiLabel
        c.model.threshold = 0.25
        c.training.checkpointPath = "/tmp/run ✓.ckpt"
        c.training.resume = true
        return c
    }

    private func parse(_ json: String) throws -> Config { try Config(json: json) }

    // MARK: defaults and round trip

    /// The library's default model: the bag of words, bigrams and subwords, trained
    /// by SGD as fastText trains.
    func testTheDefaultModelIsTheSubwordBag() throws {
        for c in [Config(), try Config(json: nil), try Config(json: "{}"), try Config(json: "{\"model\":{\"type\":\"bag\"}}")] {
            XCTAssertEqual(c.model.type, .bag)
            XCTAssertEqual(c.model.task, .singleLabel)
            XCTAssertEqual(c.tokenizer.minFreq, 1)
            XCTAssertEqual(c.tokenizer.maxLength, 1024)
            XCTAssertEqual(c.tokenizer.wordNgrams, 2)
            XCTAssertEqual(c.tokenizer.charNgramsMin, 3)
            XCTAssertEqual(c.tokenizer.charNgramsMax, 5)
            XCTAssertEqual(c.tokenizer.buckets, 200_000)
            XCTAssertEqual(c.training.optimizer, .sgd)
            XCTAssertEqual(c.training.learningRate, 1.0)
            XCTAssertEqual(c.training.batchSize, 1)
            XCTAssertEqual(c.training.lrSchedule, .linear)
            XCTAssertEqual(c.training.epochs, 5)
            XCTAssertTrue(c.training.hogwild, "the default model trains as fastText does: Hogwild on training.threads")
            XCTAssertTrue(c.tokenizer.fitBuckets)
        }
        // Keys given explicitly win over the type's defaults, in any order.
        let c = try Config(json: "{\"training\":{\"learning_rate\":0.1},\"model\":{\"type\":\"bag\"},\"tokenizer\":{\"char_ngrams_max\":0}}")
        XCTAssertEqual(c.training.learningRate, 0.1)
        XCTAssertEqual(c.tokenizer.charNgramsMax, 0)
        XCTAssertEqual(c.training.optimizer, .sgd)
    }

    /// Naming a neural model type gives the neural defaults: Adam on batches of 64.
    func testDocumentedDefaultsOfTheNeuralModels() throws {
        for type in [Config.ModelType.lstm, .gru, .rnn, .cnn] {
            let parsed = try Config(json: "{\"model\":{\"type\":\"\(type.rawValue)\"}}")
            XCTAssertEqual(parsed.json.serialized, Config(modelType: type).json.serialized, type.rawValue)
        }
        let c = Config(modelType: .lstm)
        XCTAssertTrue(c.tokenizer.lowercase)
        XCTAssertTrue(c.tokenizer.replaceURLs)
        XCTAssertEqual(c.tokenizer.minFreq, 2)
        XCTAssertEqual(c.tokenizer.maxSize, 50_000)
        XCTAssertEqual(c.tokenizer.maxLength, 128)
        XCTAssertEqual(c.tokenizer.wordNgrams, 1)
        XCTAssertEqual(c.tokenizer.charNgramsMax, 0)
        XCTAssertEqual(c.model.type, .lstm)
        XCTAssertEqual(c.model.embeddingDim, 100)
        XCTAssertEqual(c.model.hiddenDim, 128)
        XCTAssertEqual(c.model.layers, 1)
        XCTAssertEqual(c.model.pooling, .max)
        XCTAssertEqual(c.training.optimizer, .adam)
        XCTAssertEqual(c.training.learningRate, 0.001)
        XCTAssertEqual(c.training.momentum, 0)
        XCTAssertEqual(c.training.beta1, 0.9)
        XCTAssertEqual(c.training.beta2, 0.999)
        XCTAssertEqual(c.training.epsilon, 1e-8)
        XCTAssertEqual(c.training.batchSize, 64)
        XCTAssertEqual(c.training.epochs, 5)
        XCTAssertEqual(c.training.seed, 1)
        XCTAssertEqual(c.training.threads, 0)
        XCTAssertEqual(c.training.progressEvery, 50)
        XCTAssertEqual(c.data.format, .auto)
        XCTAssertEqual(c.data.textColumn, "text")
        XCTAssertEqual(c.data.labelColumn, "label")
    }

    // MARK: transformer

    private func transformerConfig(_ json: String) throws -> Config? { try parse(json) }

    /// A transformer gets the neural defaults (Adam on batches of 64) and pools by mean.
    func testTransformerDefaults() throws {
        let t = Config(modelType: .transformer)
        var expected = Config(modelType: .lstm)
        expected.model.type = .transformer
        expected.model.pooling = .mean
        XCTAssertEqual(t.json.serialized, expected.json.serialized)
        XCTAssertEqual(t.model.heads, 4)
        XCTAssertEqual(t.training.optimizer, .adam)
        XCTAssertEqual(t.training.batchSize, 64)
        XCTAssertFalse(t.model.isRecurrent)
        XCTAssertEqual(Config.ModelType.allCases.filter(\.isRecurrent), [.lstm, .gru, .rnn])
        for json in [#"{"model":{"type":"transformer"}}"#, #"{"model":{"type":"transformer","pooling":"mean"}}"#,
                     #"{"model":{"type":"transformer","pooling":null,"heads":null}}"#] {
            if let c = try transformerConfig(json) { XCTAssertEqual(c.json.serialized, t.json.serialized, json) }
        }
        if let c = try transformerConfig(#"{"model":{"type":"transformer","embedding_dim":96,"heads":8,"layers":2,"hidden_dim":256,"dropout":0.1},"tokenizer":{"max_length":64}}"#) {
            XCTAssertEqual(c.model.heads, 8)
            XCTAssertEqual(c.model.embeddingDim, 96)
            XCTAssertEqual(c.tokenizer.maxLength, 64)
        }
    }

    /// model.heads must divide model.embedding_dim (for a transformer only); a
    /// transformer takes no pooling but mean, and is not bidirectional.
    func testTransformerKeysAreChecked() throws {
        assertThrowsTextModelError(.config, mentioning: ["model.heads = 3", "model.embedding_dim = 100", "transformer"]) {
            try parse(#"{"model":{"type":"transformer","heads":3}}"#)
        }
        assertThrowsTextModelError(.config, mentioning: ["model.heads = 8", "model.embedding_dim = 100"]) {
            try parse(#"{"model":{"type":"transformer","heads":8}}"#)
        }
        for pooling in ["max", "last"] {
            assertThrowsTextModelError(.config, mentioning: ["model.pooling", "\"\(pooling)\"", "transformer", "mean"]) {
                try parse(#"{"model":{"type":"transformer","pooling":"\#(pooling)"}}"#)
            }
        }
        assertThrowsTextModelError(.config, mentioning: ["model.bidirectional", "transformer"]) {
            try parse(#"{"model":{"type":"transformer","bidirectional":true}}"#)
        }
        assertThrowsTextModelError(.config, mentioning: ["model.heads", "between 1 and 64"]) {
            try parse(#"{"model":{"type":"transformer","heads":65}}"#)
        }
        // Other types read neither rule: heads is ignored, any pooling is theirs.
        let lstm = try parse(#"{"model":{"type":"lstm","embedding_dim":33,"heads":5,"pooling":"last"}}"#)
        XCTAssertEqual(lstm.model.heads, 5)
        XCTAssertEqual(lstm.model.pooling, .last)
        XCTAssertNoThrow(try parse(#"{"model":{"type":"bag","embedding_dim":10,"heads":3}}"#))
    }

    /// Until the network exists, building one for a transformer config made in Swift
    /// (which skips Config's checks) is a config error, not a crash.
    func testATransformerTrainsThroughTheClassifier() throws {
        var config = Config(modelType: .transformer)
        config.tokenizer.minFreq = 1
        config.model.embeddingDim = 16
        config.model.hiddenDim = 16
        config.model.heads = 2
        config.training.epochs = 15
        config.training.learningRate = 0.003
        config.training.batchSize = 16
        let network = NetworkBuilder.make(config: config, vocabularySize: 10, classes: 3)
        XCTAssertTrue(network.encoder is TransformerEncoder)
        let classifier = Model(config: config)
        try classifier.train(KeywordData.make(count: 300, seed: 1))
        let accuracy = try XCTUnwrap(classifier.evaluate(KeywordData.make(count: 200, seed: 2)).accuracy)
        XCTAssertGreaterThan(accuracy, 0.9, "a transformer learns the keyword rule")
    }

    /// One row of a key table in docs/config.md.
    private struct DocumentedKey {
        var type: String
        /// The default column: `value`, and `value` (bag: `x`; cnn: `y`) where some model
        /// types' defaults differ.
        var defaultValue: JSONValue
        var overrides: [String: JSONValue]
        var valid: String
    }

    /// The key tables of docs/config.md, by key path.
    private func documentedKeys() throws -> [String: DocumentedKey] {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        parts.removeLast(4)   // tests/swift/TextModelTests/ConfigTests.swift
        let path = (parts + ["docs", "config.md"]).joined(separator: "/")
        guard access(path, R_OK) == 0 else { throw XCTSkip("\(path) not found") }
        let lines = String(decoding: readBytes(path), as: UTF8.self).split(separator: "\n").map(String.init)
        var section = ""
        var documented = [String: DocumentedKey]()
        func value(_ cell: String, _ what: String) throws -> JSONValue {
            try JSONValue.parse(cell.filter { $0 != "`" }.trimmingSpaces, what: what)
        }
        for line in lines {
            if line.hasPrefix("## ") { section = String(line.dropFirst(3)).trimmingSpaces; continue }
            guard line.hasPrefix("| `"), Config.sections.contains(where: { $0.name == section }) else { continue }
            // Markdown writes a literal | inside a cell as \|.
            let cells = line.replacingEscapedBars().split(separator: "|", omittingEmptySubsequences: false)
                .map { String($0).trimmingSpaces.restoringEscapedBars() }
            guard cells.count > 5 else { continue }
            let key = "\(section).\(cells[1].filter { $0 != "`" })"
            XCTAssertNil(documented[key], "\(key) is documented twice")
            let defaultCell = cells[3].split(separator: "(", maxSplits: 1).map(String.init)
            var overrides = [String: JSONValue]()
            if defaultCell.count > 1 {
                XCTAssertTrue(defaultCell[1].hasSuffix(")"), "\(key): default overrides end with )")
                for entry in defaultCell[1].dropLast().split(separator: ";") {
                    let pair = entry.split(separator: ":", maxSplits: 1).map { String($0).trimmingSpaces }
                    XCTAssertEqual(pair.count, 2, "\(key): an override is `type: value`")
                    XCTAssertTrue(Config.ModelType.allCases.contains { $0.rawValue == pair[0] }, "\(key): \(pair[0]) is a model type")
                    overrides[pair[0]] = try value(pair[1], "the \(pair[0]) default of \(key)")
                }
            }
            documented[key] = DocumentedKey(type: cells[2], defaultValue: try value(defaultCell[0], "the documented default of \(key)"),
                                            overrides: overrides, valid: cells[4])
        }
        return documented
    }

    /// "2^53" or a decimal integer.
    private func documentedInt(_ text: String) -> Int? {
        let t = text.trimmingSpaces
        if t.hasPrefix("2^"), let e = Int(t.dropFirst(2)) { return 1 << e }
        return Int(t)
    }

    /// The bounds a documented number range states: "a … b", "a ≤ x < b" (any name for
    /// x, either end strict) or "> a and ≤ b".
    private func documentedRange(_ text: String) -> (min: Double, max: Double, minExclusive: Bool, maxExclusive: Bool)? {
        let words = text.split(separator: " ").map(String.init)
        if words.count == 3, words[1] == "…", let a = Double(words[0]), let b = Double(words[2]) { return (a, b, false, false) }
        if words.count == 5, let a = Double(words[0]), let b = Double(words[4]),
           ["≤", "<"].contains(words[1]), ["≤", "<"].contains(words[3]) {
            return (a, b, words[1] == "<", words[3] == "<")
        }
        if words.count == 5, words[0] == ">", words[2] == "and", words[3] == "≤", let a = Double(words[1]), let b = Double(words[4]) {
            return (a, b, true, false)
        }
        return nil
    }

    /// The key table (Config.sections), the resolved config of every model type and
    /// docs/config.md list exactly the same keys, with the same defaults for every model
    /// type, the same types, and the same valid values for choices and ranges (so the
    /// reference cannot drift from the code).
    func testKeyTableResolvedConfigAndDocsConfigMdAgree() throws {
        var table = [String: ConfigKey](), order = [String]()
        for section in Config.sections {
            for key in section.keys {
                let path = "\(section.name).\(key.name)"
                XCTAssertNil(table[path], "\(path) is declared twice")
                table[path] = key
                order.append(path)
            }
        }
        XCTAssertEqual(Config.sections.map(\.name), ["tokenizer", "model", "training", "data"])
        XCTAssertEqual(order.count, 61)
        let documented = try documentedKeys()
        XCTAssertEqual(Set(documented.keys), Set(order), "documented keys vs the key table")

        for type in Config.ModelType.allCases {
            let config = Config(modelType: type)
            var resolved = [(String, JSONValue)]()
            for (name, members) in config.json.objectValue ?? [] {
                for (key, value) in members.objectValue ?? [] { resolved.append(("\(name).\(key)", value)) }
            }
            // Keys added after model files existed are left out at their defaults (omittedAtDefault).
            let written = order.filter { !(table[$0]?.omittedAtDefault?(config) ?? false) }
            XCTAssertEqual(written.count, 56)
            XCTAssertEqual(resolved.map(\.0), written, "the resolved \(type.rawValue) config writes the table's keys in its order")
            for (path, value) in resolved {
                guard let key = table[path] else { continue }
                let tableDefault = key.defaultValue(type)
                if path == "model.type" {
                    XCTAssertEqual(value.serialized, "\"\(type.rawValue)\"")
                    XCTAssertEqual(tableDefault.serialized, "\"\(Config.defaultModelType.rawValue)\"")
                } else {
                    XCTAssertEqual(value.serialized, tableDefault.serialized, "\(path) for \(type.rawValue): resolved vs the key table")
                }
                guard let doc = documented[path] else { continue }
                let docDefault = doc.overrides[type.rawValue] ?? doc.defaultValue
                XCTAssertTrue(jsonEqual(docDefault, tableDefault),
                              "\(path) for \(type.rawValue): documented \(docDefault.serialized), key table \(tableDefault.serialized)")
            }
        }

        for path in order {
            guard let key = table[path], let doc = documented[path] else { continue }
            XCTAssertEqual(doc.type, key.kind.documentedType, "\(path): documented type")
            switch key.kind {
            case .choice(let cases):
                XCTAssertEqual(doc.valid, cases.map { "`\"\($0)\"`" }.joined(separator: ", "), "\(path): documented choices")
            case .int(let range):
                let ends = doc.valid.components(separatedBy: " … ").map(documentedInt)
                XCTAssertEqual(ends, [range.lowerBound, range.upperBound], "\(path): documented range \(doc.valid)")
            case .number(let min, let max, let minExclusive, let maxExclusive):
                let r = documentedRange(doc.valid)
                XCTAssertNotNil(r, "\(path): a documented range (\(doc.valid))")
                if let r = r {
                    XCTAssertTrue(r.min == min && r.max == max && r.minExclusive == minExclusive && r.maxExclusive == maxExclusive,
                                  "\(path): documented \(doc.valid), code \(min)\(minExclusive ? " excl." : "") to \(max)\(maxExclusive ? " excl." : "")")
                }
            case .intArray(let range, let maxCount):
                XCTAssertEqual(doc.valid, "1 to \(maxCount) widths, each \(range.lowerBound) … \(range.upperBound)", path)
            case .string:
                XCTAssertEqual(doc.valid, "non-empty", path)
            case .bool:
                XCTAssertEqual(doc.valid, "", path)
            case .optionalString, .classWeights, .stringArray, .privacy:
                break
            }
        }
    }

    /// The fields' initial values (a section built on its own, `Config.Model()`) are the
    /// neural defaults of the key table.
    func testFieldInitialValuesAreTheNeuralDefaults() {
        var c = Config(modelType: .lstm)
        c.tokenizer = Config.Tokenizer()
        c.model = Config.Model()
        c.training = Config.Training()
        c.data = Config.Data()
        XCTAssertEqual(c.json.serialized, Config(modelType: .lstm).json.serialized)
    }

    func testEmptyInputsGiveDefaults() throws {
        // Whitespace alone is malformed JSON (EdgeInputTests), not the defaults.
        for json in [nil, "", "{}", "{\"tokenizer\":{},\"model\":{},\"training\":{},\"data\":{}}",
                     "{\"model\":null}", "{\"training\":{\"epochs\":null}}"] as [String?] {
            assertSameConfig(try Config(json: json), Config())
        }
    }

    func testPartialConfigKeepsOtherDefaults() throws {
        let c = try parse("{\"model\":{\"hidden_dim\":8},\"training\":{\"learning_rate\":1,\"optimizer\":\"sgd\"}}")
        var expected = Config()
        expected.model.hiddenDim = 8
        expected.training.learningRate = 1
        expected.training.optimizer = .sgd
        assertSameConfig(c, expected)
    }

    func testResolvedJSONRoundTrip() throws {
        for c in [Config(), unusualConfig()] {
            let text = c.json.serialized
            assertSameConfig(try parse(text), c)
            // The resolved config names every key.
            for section in ["tokenizer", "model", "training", "data"] {
                XCTAssertNotNil(c.json[section]?.objectValue, section)
            }
            XCTAssertEqual(c.json["training"]?.objectValue?.count, 29)
            XCTAssertEqual(c.json["model"]?.objectValue?.count, 14)
            XCTAssertEqual(c.json["tokenizer"]?.objectValue?.count, 9)   // fit_buckets and vocabulary are left out at their defaults
            XCTAssertEqual(c.json["data"]?.objectValue?.count, 4)
            // And the round trip is stable.
            XCTAssertEqual(try parse(text).json.serialized, text)
        }
    }

    /// The resolved config, byte for byte: model files and checkpoints store it, so its
    /// key order and number spellings must not drift. The strings are what 0.3.0 wrote;
    /// since then model.heads follows model.filters, and a config without it (a 0.3.0
    /// model file's) reads back to the same config.
    func testResolvedConfigIsByteStable() throws {
        let rich = #"{"model":{"type":"gru","pooling":"mean","bidirectional":true,"kernel_sizes":[2,3],"pretrained_vectors":"v.vec"},"training":{"class_weights":{"b":2,"a":0.5},"early_stopping":"valid_macro_f1","lr_schedule":"step","lr_step_epochs":2,"optimizer":"adamw","checkpoint_path":"c.ckpt"},"data":{"format":"jsonl"}}"#
        let writtenBy030: [(String, Config, String)] = [
            ("bag (the default)", Config(), #"{"tokenizer":{"lowercase":true,"replace_urls":true,"min_freq":1,"max_size":50000,"max_length":1024,"word_ngrams":2,"char_ngrams_min":3,"char_ngrams_max":5,"buckets":200000},"model":{"type":"bag","task":"single_label","threshold":0.5,"embedding_dim":100,"hidden_dim":128,"layers":1,"pooling":"max","bidirectional":false,"dropout":0,"kernel_sizes":[3,4,5],"filters":100,"pretrained_vectors":null,"freeze_embeddings":false},"training":{"optimizer":"sgd","learning_rate":1,"momentum":0,"beta1":0.9,"beta2":0.999,"epsilon":1e-08,"batch_size":1,"epochs":5,"seed":1,"threads":0,"hogwild":true,"progress_every":1000,"max_memory_mb":8192,"lr_schedule":"linear","warmup_steps":0,"lr_step_epochs":0,"lr_step_factor":0.1,"nesterov":false,"weight_decay":0,"clip_norm":0,"label_smoothing":0,"class_weights":null,"early_stopping":"none","patience":2,"validation_fraction":0,"augment_token_dropout":0,"augment_swap":0,"checkpoint_path":null,"resume":false},"data":{"format":"auto","text_column":"text","label_column":"label","label_separator":"|"}}"#),
            ("lstm", Config(modelType: .lstm), #"{"tokenizer":{"lowercase":true,"replace_urls":true,"min_freq":2,"max_size":50000,"max_length":128,"word_ngrams":1,"char_ngrams_min":0,"char_ngrams_max":0,"buckets":100000},"model":{"type":"lstm","task":"single_label","threshold":0.5,"embedding_dim":100,"hidden_dim":128,"layers":1,"pooling":"max","bidirectional":false,"dropout":0,"kernel_sizes":[3,4,5],"filters":100,"pretrained_vectors":null,"freeze_embeddings":false},"training":{"optimizer":"adam","learning_rate":0.001,"momentum":0,"beta1":0.9,"beta2":0.999,"epsilon":1e-08,"batch_size":64,"epochs":5,"seed":1,"threads":0,"hogwild":false,"progress_every":50,"max_memory_mb":8192,"lr_schedule":"constant","warmup_steps":0,"lr_step_epochs":0,"lr_step_factor":0.1,"nesterov":false,"weight_decay":0,"clip_norm":0,"label_smoothing":0,"class_weights":null,"early_stopping":"none","patience":2,"validation_fraction":0,"augment_token_dropout":0,"augment_swap":0,"checkpoint_path":null,"resume":false},"data":{"format":"auto","text_column":"text","label_column":"label","label_separator":"|"}}"#),
            ("cnn", Config(modelType: .cnn), #"{"tokenizer":{"lowercase":true,"replace_urls":true,"min_freq":2,"max_size":50000,"max_length":128,"word_ngrams":1,"char_ngrams_min":0,"char_ngrams_max":0,"buckets":100000},"model":{"type":"cnn","task":"single_label","threshold":0.5,"embedding_dim":100,"hidden_dim":128,"layers":1,"pooling":"max","bidirectional":false,"dropout":0,"kernel_sizes":[3,4,5],"filters":100,"pretrained_vectors":null,"freeze_embeddings":false},"training":{"optimizer":"adam","learning_rate":0.001,"momentum":0,"beta1":0.9,"beta2":0.999,"epsilon":1e-08,"batch_size":64,"epochs":5,"seed":1,"threads":0,"hogwild":false,"progress_every":50,"max_memory_mb":8192,"lr_schedule":"constant","warmup_steps":0,"lr_step_epochs":0,"lr_step_factor":0.1,"nesterov":false,"weight_decay":0,"clip_norm":0,"label_smoothing":0,"class_weights":null,"early_stopping":"none","patience":2,"validation_fraction":0,"augment_token_dropout":0,"augment_swap":0,"checkpoint_path":null,"resume":false},"data":{"format":"auto","text_column":"text","label_column":"label","label_separator":"|"}}"#),
            ("gru, most choices set", try parse(rich), #"{"tokenizer":{"lowercase":true,"replace_urls":true,"min_freq":2,"max_size":50000,"max_length":128,"word_ngrams":1,"char_ngrams_min":0,"char_ngrams_max":0,"buckets":100000},"model":{"type":"gru","task":"single_label","threshold":0.5,"embedding_dim":100,"hidden_dim":128,"layers":1,"pooling":"mean","bidirectional":true,"dropout":0,"kernel_sizes":[2,3],"filters":100,"pretrained_vectors":"v.vec","freeze_embeddings":false},"training":{"optimizer":"adamw","learning_rate":0.001,"momentum":0,"beta1":0.9,"beta2":0.999,"epsilon":1e-08,"batch_size":64,"epochs":5,"seed":1,"threads":0,"hogwild":false,"progress_every":50,"max_memory_mb":8192,"lr_schedule":"step","warmup_steps":0,"lr_step_epochs":2,"lr_step_factor":0.1,"nesterov":false,"weight_decay":0,"clip_norm":0,"label_smoothing":0,"class_weights":{"a":0.5,"b":2},"early_stopping":"valid_macro_f1","patience":2,"validation_fraction":0,"augment_token_dropout":0,"augment_swap":0,"checkpoint_path":"c.ckpt","resume":false},"data":{"format":"jsonl","text_column":"text","label_column":"label","label_separator":"|"}}"#),
        ]
        for (what, config, old) in writtenBy030 {
            let expected = old.replacing(#""filters":100,"#, with: #""filters":100,"heads":4,"#)
            XCTAssertEqual(config.json.serialized, expected, what)
            XCTAssertEqual(try parse(old).json.serialized, expected, "\(what), as 0.3.0 wrote it")
        }
    }

    func testWholeNumbersAndIntegersWhereNumbersAreExpected() throws {
        let c = try parse("{\"training\":{\"learning_rate\":2,\"momentum\":0,\"epsilon\":1E-3}}")
        XCTAssertEqual(c.training.learningRate, 2)
        XCTAssertEqual(c.training.epsilon, 0.001)
    }

    // MARK: unknown keys

    func testUnknownKeysAtEveryLevelNameTheirPath() {
        let cases: [(String, String)] = [
            ("{\"foo\":1}", "foo"),
            ("{\"tokenizer\":{\"lowercase\":true,\"lower_case\":true}}", "tokenizer.lower_case"),
            ("{\"model\":{\"hidden\":3}}", "model.hidden"),
            ("{\"training\":{\"learnin_rate\":0.1}}", "training.learnin_rate"),
            ("{\"data\":{\"format\":\"csv\",\"columns\":[]}}", "data.columns"),
            ("{\"model\":{\"hidden_dim\":4},\"Model\":{}}", "Model"),
        ]
        for (json, path) in cases {
            assertThrowsTextModelError(.config, mentioning: [path, "not a known key"], json) { try parse(json) }
        }
    }

    // MARK: wrong types

    func testWrongTypesNameTheKey() {
        let cases: [(String, String)] = [
            ("{\"tokenizer\":{\"lowercase\":1}}", "tokenizer.lowercase"),
            ("{\"tokenizer\":{\"replace_urls\":\"yes\"}}", "tokenizer.replace_urls"),
            ("{\"tokenizer\":{\"min_freq\":\"2\"}}", "tokenizer.min_freq"),
            ("{\"model\":{\"hidden_dim\":8.5}}", "model.hidden_dim"),
            ("{\"model\":{\"hidden_dim\":true}}", "model.hidden_dim"),
            ("{\"model\":{\"layers\":[1]}}", "model.layers"),
            ("{\"model\":{\"type\":1}}", "model.type"),
            ("{\"training\":{\"learning_rate\":\"0.1\"}}", "training.learning_rate"),
            ("{\"training\":{\"optimizer\":{}}}", "training.optimizer"),
            ("{\"training\":{\"seed\":1.5}}", "training.seed"),
            ("{\"data\":{\"text_column\":[]}}", "data.text_column"),
            ("{\"model\":3}", "model"),
            ("{\"training\":[]}", "training"),
            ("{\"data\":\"csv\"}", "data"),
        ]
        for (json, path) in cases {
            assertThrowsTextModelError(.config, mentioning: [path], json) { try parse(json) }
        }
    }

    // MARK: out of range

    func testOutOfRangeValues() {
        let cases: [(String, String)] = [
            ("{\"tokenizer\":{\"min_freq\":0}}", "tokenizer.min_freq"),
            ("{\"tokenizer\":{\"max_size\":2}}", "tokenizer.max_size"),
            ("{\"tokenizer\":{\"max_length\":0}}", "tokenizer.max_length"),
            ("{\"tokenizer\":{\"max_length\":100001}}", "tokenizer.max_length"),
            ("{\"model\":{\"type\":\"xlnet\"}}", "model.type"),
            ("{\"model\":{\"heads\":0}}", "model.heads"),
            ("{\"model\":{\"heads\":65}}", "model.heads"),
            ("{\"model\":{\"embedding_dim\":0}}", "model.embedding_dim"),
            ("{\"model\":{\"embedding_dim\":4097}}", "model.embedding_dim"),
            ("{\"model\":{\"hidden_dim\":-3}}", "model.hidden_dim"),
            ("{\"model\":{\"hidden_dim\":1e30}}", "model.hidden_dim"),
            ("{\"model\":{\"hidden_dim\":9223372036854775807}}", "model.hidden_dim"),
            ("{\"model\":{\"layers\":17}}", "model.layers"),
            ("{\"model\":{\"pooling\":\"sum\"}}", "model.pooling"),
            ("{\"training\":{\"optimizer\":\"rmsprop\"}}", "training.optimizer"),
            ("{\"training\":{\"learning_rate\":0}}", "training.learning_rate"),
            ("{\"training\":{\"learning_rate\":-0.1}}", "training.learning_rate"),
            ("{\"training\":{\"learning_rate\":101}}", "training.learning_rate"),
            ("{\"training\":{\"momentum\":1}}", "training.momentum"),
            ("{\"training\":{\"momentum\":-0.5}}", "training.momentum"),
            ("{\"training\":{\"beta1\":1.0}}", "training.beta1"),
            ("{\"training\":{\"beta2\":1.5}}", "training.beta2"),
            ("{\"training\":{\"epsilon\":0}}", "training.epsilon"),
            ("{\"training\":{\"batch_size\":0}}", "training.batch_size"),
            ("{\"training\":{\"epochs\":0}}", "training.epochs"),
            ("{\"training\":{\"seed\":-1}}", "training.seed"),
            ("{\"training\":{\"seed\":9007199254740993}}", "training.seed"),
            ("{\"training\":{\"threads\":-1}}", "training.threads"),
            ("{\"training\":{\"threads\":1025}}", "training.threads"),
            ("{\"training\":{\"progress_every\":0}}", "training.progress_every"),
            ("{\"training\":{\"max_memory_mb\":0}}", "training.max_memory_mb"),
            ("{\"data\":{\"format\":\"xml\"}}", "data.format"),
            ("{\"data\":{\"text_column\":\"\"}}", "data.text_column"),
            ("{\"data\":{\"label_column\":\"\"}}", "data.label_column"),
        ]
        for (json, path) in cases {
            assertThrowsTextModelError(.config, mentioning: [path], json) { try parse(json) }
        }
    }

    func testRangeEndsThatAreAllowed() throws {
        let c = try parse("""
            {"tokenizer":{"min_freq":1,"max_size":3,"max_length":100000},
             "model":{"embedding_dim":4096,"hidden_dim":1,"layers":16},
             "training":{"learning_rate":100,"momentum":0,"beta1":0,"beta2":0.999999,"seed":0,"threads":1024,
                         "batch_size":1,"epochs":1}}
            """)
        XCTAssertEqual(c.tokenizer.maxSize, 3)
        XCTAssertEqual(c.model.layers, 16)
        XCTAssertEqual(c.training.learningRate, 100)
        XCTAssertEqual(c.training.seed, 0)
        XCTAssertEqual(c.training.threads, 1024)
    }

    func testNonFiniteNumbersAreRejected() {
        // json-c reads NaN / Infinity literals; the config must still refuse them.
        for literal in ["NaN", "Infinity", "-Infinity"] {
            let json = "{\"training\":{\"learning_rate\":\(literal)}}"
            assertThrowsTextModelError(.config, json) { try parse(json) }
        }
    }

    // MARK: malformed JSON

    func testMalformedJSON() {
        for json in ["{", "}", "{\"a\":}", "{\"model\":{\"layers\":1}", "[1,2", "nul", "{} x", "{}{}",
                     "{\"model\":{\"layers\":1}} {}", "{\"a\" 1}", "{\"a\":1,,}", "\"unterminated"] {
            assertThrowsTextModelError(.config, json) { try parse(json) }
        }
    }

    func testSingleQuotesAreRefusedAsDocumented() {
        // docs/config.md: "The JSON is parsed strictly (RFC 8259: no comments, single
        // quotes or trailing commas)".
        for json in ["{'model':{}}", "{\"model\":{'hidden_dim':8}}", "{\"model\":{\"type\":'lstm'}}"] {
            assertThrowsTextModelError(.config, json) { try parse(json) }
        }
    }

    func testEveryTruncationOfAValidConfigIsAnError() throws {
        let text = unusualConfig().json.serialized
        XCTAssertNoThrow(try parse(text))
        let scalars = Array(text.unicodeScalars)
        for length in 1..<scalars.count {
            var prefix = ""
            prefix.unicodeScalars.append(contentsOf: scalars[0..<length])
            assertThrowsTextModelError(.config, "prefix of length \(length)") { try parse(prefix) }
        }
    }

    func testNonObjectJSON() {
        for json in ["[]", "[{}]", "3", "-1.5", "\"x\"", "null", "true", "false"] {
            assertThrowsTextModelError(.config, mentioning: ["object"], json) { try parse(json) }
        }
    }
}

private extension String {
    func replacingEscapedBars() -> String {
        var out = "", previous: Character = " "
        for ch in self {
            if ch == "|" && previous == "\\" { out.removeLast(); out.append("\u{1}") } else { out.append(ch) }
            previous = ch
        }
        return out
    }

    func restoringEscapedBars() -> String { String(map { $0 == "\u{1}" ? "|" : $0 }) }
}
