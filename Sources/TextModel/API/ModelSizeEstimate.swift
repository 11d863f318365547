/// The model-file size of a config on given training data, before training it:
/// the weights are exact (the config's network is laid out over the vocabulary the data
/// gives at its tokenizer settings), the vocabulary's bytes in the file are exact up to
/// ties at the max_size cut, and the rest of the header is bounded from above. Autotune
/// skips or shrinks configs by it, then checks every trained model's real size.
///
/// Counting the training tokens once per tokenizer setting (lowercase, replace_urls,
/// max_length) is the whole cost; each min_freq / max_size after that is a lookup.
final class ModelSizeEstimate {
    private let texts: [String]
    private let classes: Int
    /// For each tokenizer setting: every token's count and its bytes in the file's
    /// vocabulary (a JSON string inside a JSON string, comma included), most frequent
    /// first, ties by bytes as Vocabulary orders them.
    private var tokenTables: [String: [(count: Int, fileBytes: Int)]] = [:]
    /// Slack for the header's parts that are not counted exactly (tensor entries,
    /// checksums, versions): far above what they take.
    static let headerSlack = 4096
    private let slack: Int

    /// `slack` replaces headerSlack only in tests that make the estimate fall short.
    init(texts: [String], classes: Int, slack: Int = ModelSizeEstimate.headerSlack) {
        self.texts = texts
        self.classes = classes
        self.slack = slack
    }

    /// Estimated bytes of the model file `config` trains on these texts.
    func bytes(_ config: Config) -> Int {
        var config = config
        config.tokenizer = fitted(config.tokenizer)
        let vocabulary = vocabularyShape(config.tokenizer)
        let network = NetworkBuilder.make(config: config, vocabularySize: vocabulary.count, classes: classes)
        let configBytes = JSONValue.string(config.json.serialized).serialized.utf8.count
        let tensorEntries = network.layout.tensors.reduce(0) { $0 + $1.name.utf8.count + 96 }
        return 8 + network.layout.count * 4 + vocabulary.fileBytes + configBytes + tensorEntries
            + classes * 16 + slack
    }

    /// Distinct hash buckets the texts' n-grams use, per tokenizer setting.
    private var usedBuckets: [String: Int] = [:]

    /// `t` with the bucket count training fits to these texts (BucketSizing), when
    /// tokenizer.fit_buckets. Training counts its training rows only (validation_fraction
    /// holds some out): fewer rows use no more buckets, so the estimate stays above.
    private func fitted(_ t: Config.Tokenizer) -> Config.Tokenizer {
        guard t.fitBuckets, t.hashedFeatures > 0 else { return t }
        let key = "\(t.lowercase) \(t.replaceURLs) \(t.maxLength) \(t.wordNgrams) \(t.charNgramsMin) \(t.charNgramsMax) \(t.buckets)"
        let used = usedBuckets[key] ?? {
            let tokenizer = Tokenizer(t), hasher = NGramHasher(config: t)
            var seen = [UInt64](repeating: 0, count: (t.buckets + 63) / 64), count = 0
            var tokens = TokenBuffer(), ids = [Int32](), scratch = NGramHasher.Scratch()
            for text in texts {
                tokenizer.tokenize(text, into: &tokens)
                ids.removeAll(keepingCapacity: true)
                hasher.features(of: tokens, base: 0, into: &ids)
                hasher.characterFeatures(of: tokens, base: 0, into: &ids, scratch: &scratch)
                count += ids.withUnsafeBufferPointer { BucketSizing.mark($0, base: 0, buckets: t.buckets, seen: &seen) }
            }
            usedBuckets[key] = count
            return count
        }()
        var fitted = t
        fitted.buckets = BucketSizing.fitted(configured: t.buckets, used: used)
        return fitted
    }

    /// Tokens of the training texts at these tokenizer settings (the trial-time estimate
    /// scales with it).
    func tokenCount(_ t: Config.Tokenizer) -> Int {
        tokens(t).reduce(0) { $0 + $1.count }
    }

    /// The vocabulary's entries (specials included) and bytes in the file.
    private func vocabularyShape(_ t: Config.Tokenizer) -> (count: Int, fileBytes: Int) {
        let table = tokens(t)
        var kept = 0, bytes = 2 * 9 + 8  // "<pad>", "<unk>" and the brackets, escaped
        for entry in table where kept < t.maxSize - 2 {
            if entry.count < t.minFreq { break }
            kept += 1
            bytes += entry.fileBytes
        }
        return (kept + 2, bytes)
    }

    private func tokens(_ t: Config.Tokenizer) -> [(count: Int, fileBytes: Int)] {
        let key = "\(t.lowercase) \(t.replaceURLs) \(t.maxLength)"
        if let table = tokenTables[key] { return table }
        var counts = [String: Int]()
        let tokenizer = Tokenizer(t)
        for text in texts {
            for token in tokenizer.tokenize(text) { counts[token, default: 0] += 1 }
        }
        counts[Vocabulary.paddingToken] = nil
        counts[Vocabulary.unknownToken] = nil
        let table = counts.sorted {
            $0.value != $1.value ? $0.value > $1.value : Array($0.key.utf8).lexicographicallyPrecedes($1.key.utf8)
        }.map { entry -> (count: Int, fileBytes: Int) in
            let inner = JSONValue.string(entry.key).serialized
            return (entry.value, JSONValue.string(inner).serialized.utf8.count - 2 + 1)
        }
        tokenTables[key] = table
        return table
    }

    /// `keys` made small enough for `limit` bytes, halving in turn the hash buckets (to
    /// 10,000), the embedding width (to 16), the buckets again (to 1,000), the embedding
    /// width again (to 4), the hidden or filter width (to 16) and the vocabulary cap (to
    /// 1,000), each until the estimate fits; nil when nothing fits.
    /// Also returns what was changed, for the trial table.
    func shrunk(_ keys: ConfigKeys, base: JSONValue, limit: Int) throws -> (keys: ConfigKeys, config: Config, changes: [String])? {
        var keys = keys, changes = [String]()
        var config = try Config(value: keys.overlaid(with: base).json)
        func fixed(_ section: String, _ key: String) -> Bool { base[section]?[key] != nil }
        func setDim(_ dim: Int) {
            keys.set("model", "embedding_dim", .int(Int64(dim)))
            if config.model.type == .transformer && dim % config.model.heads != 0 { keys.set("model", "heads", .int(1)) }
        }
        while bytes(config) > limit {
            let t = config.tokenizer, m = config.model
            let hashed = t.hashedFeatures > 0 && !fixed("tokenizer", "buckets")
            let dimFree = !fixed("model", "embedding_dim")
            if hashed && t.buckets > 10_000 {
                keys.set("tokenizer", "buckets", .int(Int64(max(10_000, t.buckets / 2))))
            } else if dimFree && m.embeddingDim > 16 {
                setDim(max(16, m.embeddingDim / 2))
            } else if hashed && t.buckets > 1000 {
                keys.set("tokenizer", "buckets", .int(Int64(max(1000, t.buckets / 2))))
            } else if dimFree && m.embeddingDim > 4 {
                setDim(max(4, m.embeddingDim / 2))
            } else if m.type.isRecurrent || m.type == .transformer, m.hiddenDim > 16, !fixed("model", "hidden_dim") {
                keys.set("model", "hidden_dim", .int(Int64(max(16, m.hiddenDim / 2))))
            } else if m.type == .cnn && m.filters > 16 && !fixed("model", "filters") {
                keys.set("model", "filters", .int(Int64(max(16, m.filters / 2))))
            } else if t.maxSize > 1000 && !fixed("tokenizer", "max_size") {
                let vocabulary = vocabularyShape(t).count
                keys.set("tokenizer", "max_size", .int(Int64(max(1000, min(t.maxSize, vocabulary) / 2))))
            } else {
                return nil
            }
            let before = config
            config = try Config(value: keys.overlaid(with: base).json)
            changes.append(ModelSizeEstimate.change(before, config))
        }
        return (keys, config, changes)
    }

    /// "tokenizer.buckets 1000000 → 500000", for the key that differs.
    private static func change(_ a: Config, _ b: Config) -> String {
        let pairs: [(String, Int, Int)] = [
            ("tokenizer.buckets", a.tokenizer.buckets, b.tokenizer.buckets),
            ("model.embedding_dim", a.model.embeddingDim, b.model.embeddingDim),
            ("model.hidden_dim", a.model.hiddenDim, b.model.hiddenDim),
            ("model.filters", a.model.filters, b.model.filters),
            ("tokenizer.max_size", a.tokenizer.maxSize, b.tokenizer.maxSize),
        ]
        return pairs.filter { $0.1 != $0.2 }.map { "\($0.0) \($0.1) → \($0.2)" }.joined(separator: ", ")
    }
}
