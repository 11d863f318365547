/// What a DP-SGD run spent and how: the record a model file keeps (metadata key
/// "privacy") and the training report, the progress callback and `tm_model_privacy_json`
/// give. `covered` is false for sampling "shuffle", which the accountant's ε does not
/// cover (it assumes Poisson sampling).
public struct PrivacyRecord: Equatable {
    public var epsilon: Double
    public var delta: Double
    public var noiseMultiplier: Double
    public var maxGradNorm: Double
    public var samplingRate: Double
    public var steps: Int
    public var accountant: String
    public var sampling: String
    public var secureRNG: Bool

    public var covered: Bool { sampling == PrivacyConfig.Sampling.poisson.rawValue }

    public var json: JSONValue {
        .object([
            ("epsilon", .double(epsilon)),
            ("delta", .double(delta)),
            ("noise_multiplier", .double(noiseMultiplier)),
            ("max_grad_norm", .double(maxGradNorm)),
            ("sampling_rate", .double(samplingRate)),
            ("steps", .int(Int64(steps))),
            ("accountant", .string(accountant)),
            ("sampling", .string(sampling)),
            ("secure_rng", .bool(secureRNG)),
            ("covered_by_accountant", .bool(covered)),
        ])
    }

    /// Reads the record back from a model file's metadata.
    public init(json v: JSONValue) throws {
        func number(_ key: String) throws -> Double {
            guard let d = v[key]?.doubleValue, d.isFinite else {
                throw TextModelError.modelFormat("the model file's privacy record lacks a finite \"\(key)\"")
            }
            return d
        }
        func string(_ key: String) throws -> String {
            guard let s = v[key]?.stringValue else {
                throw TextModelError.modelFormat("the model file's privacy record lacks the string \"\(key)\"")
            }
            return s
        }
        epsilon = try number("epsilon")
        delta = try number("delta")
        noiseMultiplier = try number("noise_multiplier")
        maxGradNorm = try number("max_grad_norm")
        samplingRate = try number("sampling_rate")
        let steps = try number("steps")
        guard steps >= 0, steps < 9e15 else { throw TextModelError.modelFormat("the model file's privacy record has a bad \"steps\"") }
        self.steps = Int(steps)
        accountant = try string("accountant")
        sampling = try string("sampling")
        guard case .bool(let secure)? = v["secure_rng"] else {
            throw TextModelError.modelFormat("the model file's privacy record lacks the bool \"secure_rng\"")
        }
        secureRNG = secure
    }

    public init(epsilon: Double, delta: Double, noiseMultiplier: Double, maxGradNorm: Double, samplingRate: Double,
                steps: Int, accountant: String, sampling: String, secureRNG: Bool) {
        self.epsilon = epsilon
        self.delta = delta
        self.noiseMultiplier = noiseMultiplier
        self.maxGradNorm = maxGradNorm
        self.samplingRate = samplingRate
        self.steps = steps
        self.accountant = accountant
        self.sampling = sampling
        self.secureRNG = secureRNG
    }
}
