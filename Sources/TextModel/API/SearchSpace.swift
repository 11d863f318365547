#if canImport(Glibc)
import Glibc
#endif

/// The configs an autotune search draws (docs/autotune.md states the same space):
/// trial 0 is the library's default model; after it each trial is, by a coin flip once
/// `exploreFirst` trials have run, either a fresh draw (a model type from
/// `AutotuneOptions.modelTypes`, bag half of the time when it is listed: it is the
/// fastest and most robust model here, so more of the budget goes to it, and its
/// hyper-parameters from the lists below) or the best config so far with one or two of
/// its keys drawn again (as fastText's autotune searches around its best). A draw reads
/// only the seeded generator and the earlier trials' scores, never the clock, so a seed
/// fixes the whole sequence of trials.
struct SearchSpace {
    let modelTypes: [Config.ModelType]
    let task: Config.Task
    /// Fresh draws only, before searching around the best begins.
    static let exploreFirst = 4

    /// The config keys of one trial, as a config JSON object (before the base config and
    /// the seed and threads are laid over it). `best` is the best trial's config so far.
    func draw(trial: Int, best: JSONValue?, rng: inout SeededGenerator) -> JSONValue {
        if trial == 0 && modelTypes.contains(Config.defaultModelType) { return .object([]) }
        if let best = best, trial >= SearchSpace.exploreFirst, rng.pick([true, false]) {
            return around(best, &rng)
        }
        return fresh(pickType(&rng), &rng)
    }

    /// `best` with one or two keys of a fresh draw of its own model type.
    private func around(_ best: JSONValue, _ rng: inout SeededGenerator) -> JSONValue {
        let type = best["model"]?["type"]?.stringValue.flatMap(Config.ModelType.init(rawValue:)) ?? Config.defaultModelType
        let other = ConfigKeys(fresh(type, &rng))
        let names = other.names.filter { $0 != ("model", "type") }
        var keys = ConfigKeys(best)
        keys.set("model", "type", .string(type.rawValue))
        if names.isEmpty { return keys.json }
        for _ in 0..<(1 + Int(rng.next() % 2)) {
            let (section, key) = rng.pick(names)
            // The subword range is one choice: its ends move together (0–6 is invalid).
            let pair = key.hasPrefix("char_ngrams_") ? ["char_ngrams_min", "char_ngrams_max"] : [key]
            for k in pair { if let value = other.get(section, k) { keys.set(section, k, value) } }
        }
        return keys.json
    }

    private func fresh(_ type: Config.ModelType, _ rng: inout SeededGenerator) -> JSONValue {
        var keys = ConfigKeys()
        keys.set("model", "type", .string(type.rawValue))
        switch type {
        case .bag: drawBag(&keys, &rng)
        case .cnn: drawCNN(&keys, &rng)
        case .lstm, .gru, .rnn: drawRecurrent(&keys, &rng)
        case .transformer: drawTransformer(&keys, &rng)
        }
        return keys.json
    }

    private func pickType(_ rng: inout SeededGenerator) -> Config.ModelType {
        let others = modelTypes.filter { $0 != .bag }
        if modelTypes.contains(.bag) && (others.isEmpty || rng.pick([true, false])) { return .bag }
        return rng.pick(others)
    }

    /// fastText's recipe around our defaults: SGD at a linearly decaying rate on single
    /// examples, word n-grams, subwords and hash buckets.
    private func drawBag(_ keys: inout ConfigKeys, _ rng: inout SeededGenerator) {
        let regression = task == .regression
        keys.set("model", "embedding_dim", .int(rng.pick([16, 32, 50, 100, 200])))
        keys.set("training", "epochs", .int(rng.pick([5, 10, 20])))
        // Regression's squared error takes far smaller steps than the classifiers' rate
        // (the default, 1, trains the classifiers well).
        keys.set("training", "learning_rate", .double(rng.logUniform(regression ? 0.005 : 0.1, regression ? 0.2 : 2.5)))
        let wordNgrams = rng.pick([1, 2, 3])
        keys.set("tokenizer", "word_ngrams", .int(Int64(wordNgrams)))
        // Subwords multiply a text's features (and training time) by about five: off
        // in half the draws.
        let subwords = rng.pick([(0, 0), (0, 0), (0, 0), (2, 4), (3, 5), (3, 6)])
        keys.set("tokenizer", "char_ngrams_min", .int(Int64(subwords.0)))
        keys.set("tokenizer", "char_ngrams_max", .int(Int64(subwords.1)))
        keys.set("tokenizer", "min_freq", .int(rng.pick([1, 1, 2, 3])))
        if wordNgrams > 1 || subwords.1 > 0 {
            keys.set("tokenizer", "buckets", .int(rng.pick([50_000, 100_000, 200_000, 500_000, 1_000_000])))
        }
    }

    private func drawCNN(_ keys: inout ConfigKeys, _ rng: inout SeededGenerator) {
        drawNeuralTraining(&keys, &rng)
        keys.set("model", "embedding_dim", .int(rng.pick([50, 100, 200])))
        keys.set("model", "filters", .int(rng.pick([50, 100, 200])))
        keys.set("model", "kernel_sizes", .array(rng.pick([[1, 2, 3], [2, 3, 4], [3, 4, 5]]).map { .int(Int64($0)) }))
        keys.set("model", "dropout", .double(rng.pick([0.0, 0.25, 0.5])))
    }

    private func drawRecurrent(_ keys: inout ConfigKeys, _ rng: inout SeededGenerator) {
        drawNeuralTraining(&keys, &rng)
        keys.set("model", "embedding_dim", .int(rng.pick([50, 100])))
        keys.set("model", "hidden_dim", .int(rng.pick([64, 128])))
        keys.set("model", "bidirectional", .bool(rng.pick([false, true])))
        keys.set("model", "dropout", .double(rng.pick([0.0, 0.25])))
    }

    private func drawTransformer(_ keys: inout ConfigKeys, _ rng: inout SeededGenerator) {
        drawNeuralTraining(&keys, &rng)
        keys.set("model", "embedding_dim", .int(rng.pick([64, 128])))
        keys.set("model", "heads", .int(rng.pick([2, 4])))
        keys.set("model", "layers", .int(rng.pick([1, 2])))
        keys.set("model", "hidden_dim", .int(rng.pick([128, 256])))
        keys.set("model", "dropout", .double(rng.pick([0.0, 0.1])))
    }

    /// Adam on batches, stopped early on the validation loss (keeping the best epoch).
    private func drawNeuralTraining(_ keys: inout ConfigKeys, _ rng: inout SeededGenerator) {
        keys.set("training", "learning_rate", .double(rng.logUniform(3e-4, 3e-3)))
        keys.set("training", "epochs", .int(rng.pick([3, 5, 10])))
        keys.set("training", "batch_size", .int(rng.pick([32, 64])))
        keys.set("training", "early_stopping", .string("valid_loss"))
        keys.set("training", "patience", .int(2))
        keys.set("tokenizer", "min_freq", .int(rng.pick([1, 2])))
    }
}

/// Config keys set section by section, in the order they were set; `json` is a config
/// object. `laid(under:)` merges another config object over them (its keys win).
struct ConfigKeys {
    private var sections: [(String, [(String, JSONValue)])] = []

    init() {}

    init(_ config: JSONValue) {
        for (section, value) in config.objectValue ?? [] {
            for (key, v) in value.objectValue ?? [] { set(section, key, v) }
        }
    }

    mutating func set(_ section: String, _ key: String, _ value: JSONValue) {
        guard let s = sections.firstIndex(where: { $0.0 == section }) else {
            sections.append((section, [(key, value)]))
            return
        }
        if let k = sections[s].1.firstIndex(where: { $0.0 == key }) {
            sections[s].1[k].1 = value
        } else {
            sections[s].1.append((key, value))
        }
    }

    /// Every (section, key) set, in order.
    var names: [(String, String)] { sections.flatMap { s in s.1.map { (s.0, $0.0) } } }

    func get(_ section: String, _ key: String) -> JSONValue? {
        sections.first(where: { $0.0 == section })?.1.first(where: { $0.0 == key })?.1
    }

    /// These keys with every key of `config` (a config object) set over them.
    func overlaid(with config: JSONValue) -> ConfigKeys {
        var out = self
        for (section, value) in config.objectValue ?? [] {
            for (key, v) in value.objectValue ?? [] { out.set(section, key, v) }
        }
        return out
    }

    var json: JSONValue { .object(sections.map { ($0.0, .object($0.1)) }) }
}

extension SeededGenerator {
    /// One of `choices`, uniformly (`choices` is never empty here).
    mutating func pick<T>(_ choices: [T]) -> T {
        choices[Int(next() % UInt64(choices.count))]
    }

    /// Log-uniform in [low, high], rounded to 3 significant digits so the table reads well.
    mutating func logUniform(_ low: Double, _ high: Double) -> Double {
        let unit = Double(next() >> 11) * (1.0 / Double(1 << 53))
        let value = exp(log(low) + (log(high) - log(low)) * unit)
        let scale = pow(10.0, Double(2 - Int(log10(value).rounded(.down))))
        return (value * scale).rounded() / scale
    }
}
