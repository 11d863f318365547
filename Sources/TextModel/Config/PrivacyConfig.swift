/// `training.privacy`: differentially private training (DP-SGD, docs/privacy.md). Off
/// (nil in `Config.Training.privacy`) unless the config gives the object. Every key but
/// one of `noise_multiplier` / `target_epsilon` has a default.
public struct PrivacyConfig: Equatable {
    /// How privacy loss is tracked. Only the Rényi-DP accountant of the sampled Gaussian
    /// mechanism (Mironov, Talwar, Zhang 2019) is implemented.
    public enum Accountant: String, CaseIterable { case rdp }
    /// How each step's batch is drawn. `poisson` (each example independently with rate
    /// q = batch_size / N) is what the accountant's guarantee assumes; `shuffle` (fixed
    /// batches of a shuffled epoch) trains but the reported ε does not cover it.
    public enum Sampling: String, CaseIterable { case poisson, shuffle }

    /// C: every example's gradient is scaled down to at most this L2 norm.
    public var maxGradNorm = 1.0
    /// σ: the noise's standard deviation is σ·C per coordinate. nil: found from targetEpsilon.
    public var noiseMultiplier: Double? = nil
    /// The ε to reach at the end of training; σ is searched for before training.
    public var targetEpsilon: Double? = nil
    /// δ; nil: min(1e-5, 1 / (10·N)) for N training examples (`resolvedDelta`).
    public var delta: Double? = nil
    public var accountant = Accountant.rdp
    public var sampling = Sampling.poisson
    /// Noise from the operating system's CSPRNG (getrandom(2)) instead of the seeded generator.
    public var secureRNG = false

    public init() {}

    /// The δ a run on `examples` training examples uses.
    public func resolvedDelta(examples: Int) -> Double {
        delta ?? min(1e-5, 1 / (10 * Double(max(examples, 1))))
    }

    /// Reads the object at `training.privacy` (null or absent: off).
    static func read(_ reader: inout ConfigReader, key: String, current: PrivacyConfig?) throws -> PrivacyConfig? {
        guard reader.has(key) else { return current }
        var r = try reader.section(key)
        var p = PrivacyConfig()
        p.maxGradNorm = try r.double("max_grad_norm", default: p.maxGradNorm, min: 0, max: 1e6, minExclusive: true)
        let sigma = try r.double("noise_multiplier", default: -1, min: 0, max: 1e4)
        let target = try r.double("target_epsilon", default: -1, min: 0, max: 1e4, minExclusive: true)
        let delta = try r.double("delta", default: -1, min: 0, max: 1, minExclusive: true, maxExclusive: true)
        p.accountant = try r.choice("accountant", default: p.accountant)
        p.sampling = try r.choice("sampling", default: p.sampling)
        p.secureRNG = try r.bool("secure_rng", default: p.secureRNG)
        try r.finish()
        p.noiseMultiplier = sigma >= 0 ? sigma : nil
        p.targetEpsilon = target > 0 ? target : nil
        p.delta = delta > 0 ? delta : nil
        switch (p.noiseMultiplier, p.targetEpsilon) {
        case (nil, nil):
            throw TextModelError.config("\(r.path) needs noise_multiplier (σ) or target_epsilon (ε to reach, σ is then searched for)")
        case (.some, .some):
            throw TextModelError.config("\(r.path) takes noise_multiplier or target_epsilon, not both")
        default: break
        }
        return p
    }

    /// The object as the resolved config writes it (null keys for what was not given).
    var json: JSONValue {
        func number(_ d: Double?) -> JSONValue { d.map { .double($0) } ?? .null }
        return .object([
            ("max_grad_norm", .double(maxGradNorm)),
            ("noise_multiplier", number(noiseMultiplier)),
            ("target_epsilon", number(targetEpsilon)),
            ("delta", number(delta)),
            ("accountant", .string(accountant.rawValue)),
            ("sampling", .string(sampling.rawValue)),
            ("secure_rng", .bool(secureRNG)),
        ])
    }
}

/// `tokenizer.vocabulary`: where the word vocabulary comes from.
public enum VocabularySource: String, CaseIterable {
    /// Words of the training texts seen min_freq times or more (the default). Not
    /// allowed with training.privacy: it publishes the private data's words.
    case data
    /// No word list: every word is hashed (FNV-1a) into one of tokenizer.buckets ids, as
    /// the n-grams are; nothing about the data is stored.
    case hashed
    /// The words of model.pretrained_vectors (public), in the file's order.
    case pretrained
}
