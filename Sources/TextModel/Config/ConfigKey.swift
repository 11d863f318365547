/// One key of the config: its JSON name, its kind (what values it takes), its default for
/// each model type, and where it lives in a Config. `Config.sections` lists every key
/// once; parsing (`Config.init(value:)`), the defaults (`Config.init(modelType:)`), the
/// resolved config (`Config.json`) and the test against docs/config.md all read it.
struct ConfigKey {
    /// What a key accepts; ConfigReader checks it (with the messages the tests expect).
    enum Kind {
        case bool
        /// A whole number in the range.
        case int(ClosedRange<Int>)
        /// A finite number in [min, max], either end exclusive.
        case number(min: Double, max: Double, minExclusive: Bool, maxExclusive: Bool)
        /// A non-empty string.
        case string
        /// A non-empty string, or null (the default).
        case optionalString
        /// One of an enum's raw values, listed in case order.
        case choice([String])
        /// 1 to maxCount whole numbers, each in the range.
        case intArray(ClosedRange<Int>, maxCount: Int)
        /// null, "balanced" or an object of label weights (ClassWeights).
        case classWeights
        /// null or a non-empty array of distinct strings (model.labels).
        case stringArray
        /// null (off) or the training.privacy object (PrivacyConfig).
        case privacy

        /// The type column of docs/config.md.
        var documentedType: String {
            switch self {
            case .bool: return "bool"
            case .int: return "int"
            case .number: return "number"
            case .string, .choice: return "string"
            case .optionalString: return "string or null"
            case .intArray: return "array of int"
            case .classWeights: return "null, string or object"
            case .stringArray: return "array of string or null"
            case .privacy: return "object or null"
            }
        }
    }

    let name: String
    let kind: Kind
    /// The key's default for a model type, as the resolved config writes it.
    let defaultValue: (Config.ModelType) -> JSONValue
    /// Sets the key to its default for a model type.
    let reset: (inout Config, Config.ModelType) -> Void
    /// Reads the key (absent or null: the value the config already holds).
    let read: (inout ConfigReader, inout Config) throws -> Void
    /// The key's value in the resolved config.
    let write: (Config) -> JSONValue
    /// Keys added after model files existed: left out of the resolved config while they
    /// hold their default, so a config that does not use them serialises as before.
    var omittedAtDefault: ((Config) -> Bool)? = nil

    /// Builds a key from its JSON conversion; `overrides` are the model types whose
    /// default differs from `def`.
    private static func key<V>(_ name: String, _ kind: Kind, _ path: WritableKeyPath<Config, V>, default def: V,
                               overrides: [Config.ModelType: V], toJSON: @escaping (V) -> JSONValue,
                               read: @escaping (inout ConfigReader, V) throws -> V) -> ConfigKey {
        ConfigKey(name: name, kind: kind,
                  defaultValue: { toJSON(overrides[$0] ?? def) },
                  reset: { config, type in config[keyPath: path] = overrides[type] ?? def },
                  read: { reader, config in config[keyPath: path] = try read(&reader, config[keyPath: path]) },
                  write: { toJSON($0[keyPath: path]) })
    }

    private static func overrides<V>(bag: V?, transformer: V? = nil) -> [Config.ModelType: V] {
        var o = [Config.ModelType: V]()
        if let bag = bag { o[.bag] = bag }
        if let transformer = transformer { o[.transformer] = transformer }
        return o
    }

    static func bool(_ name: String, _ path: WritableKeyPath<Config, Bool>, default def: Bool, bag: Bool? = nil) -> ConfigKey {
        key(name, .bool, path, default: def, overrides: overrides(bag: bag), toJSON: { .bool($0) }) { r, current in
            try r.bool(name, default: current)
        }
    }

    /// Any integer field (seed is a UInt64); the range must fit it.
    static func int<I: FixedWidthInteger>(_ name: String, _ path: WritableKeyPath<Config, I>, _ range: ClosedRange<Int>,
                                          default def: I, bag: I? = nil) -> ConfigKey {
        key(name, .int(range), path, default: def, overrides: overrides(bag: bag), toJSON: { .int(Int64($0)) }) { r, current in
            I(try r.int(name, default: Int(current), min: range.lowerBound, max: range.upperBound))
        }
    }

    static func number(_ name: String, _ path: WritableKeyPath<Config, Double>, min: Double, max: Double,
                       minExclusive: Bool = false, maxExclusive: Bool = false,
                       default def: Double, bag: Double? = nil) -> ConfigKey {
        key(name, .number(min: min, max: max, minExclusive: minExclusive, maxExclusive: maxExclusive), path,
            default: def, overrides: overrides(bag: bag), toJSON: { .double($0) }) { r, current in
            try r.double(name, default: current, min: min, max: max, minExclusive: minExclusive, maxExclusive: maxExclusive)
        }
    }

    static func string(_ name: String, _ path: WritableKeyPath<Config, String>, default def: String) -> ConfigKey {
        key(name, .string, path, default: def, overrides: [:], toJSON: { .string($0) }) { r, current in
            try r.string(name, default: current)
        }
    }

    static func optionalString(_ name: String, _ path: WritableKeyPath<Config, String?>) -> ConfigKey {
        key(name, .optionalString, path, default: nil, overrides: [:], toJSON: { $0.map { .string($0) } ?? .null }) { r, current in
            try r.optionalString(name, default: current)
        }
    }

    static func choice<E: CaseIterable & RawRepresentable>(_ name: String, _ path: WritableKeyPath<Config, E>, default def: E,
                                                           bag: E? = nil, transformer: E? = nil) -> ConfigKey
    where E.RawValue == String {
        key(name, .choice(E.allCases.map(\.rawValue)), path, default: def, overrides: overrides(bag: bag, transformer: transformer),
            toJSON: { .string($0.rawValue) }) { r, current in
            try r.choice(name, default: current)
        }
    }

    static func intArray(_ name: String, _ path: WritableKeyPath<Config, [Int]>, _ range: ClosedRange<Int>, maxCount: Int,
                         default def: [Int]) -> ConfigKey {
        key(name, .intArray(range, maxCount: maxCount), path, default: def, overrides: [:],
            toJSON: { .array($0.map { .int(Int64($0)) }) }) { r, current in
            try r.intArray(name, default: current, min: range.lowerBound, max: range.upperBound, maxCount: maxCount)
        }
    }

    static func classWeights(_ name: String, _ path: WritableKeyPath<Config, ClassWeights>) -> ConfigKey {
        key(name, .classWeights, path, default: .none, overrides: [:], toJSON: { $0.json }) { r, current in
            try r.classWeights(name, default: current)
        }
    }
}

extension ConfigKey {
    /// A flag left out of the resolved config at its default (see omittedAtDefault).
    static func newBool(_ name: String, _ path: WritableKeyPath<Config, Bool>, default def: Bool) -> ConfigKey {
        var k = bool(name, path, default: def)
        k.omittedAtDefault = { $0[keyPath: path] == def }
        return k
    }

    /// A choice left out of the resolved config at its default (see omittedAtDefault).
    static func newChoice<E: CaseIterable & RawRepresentable & Equatable>(_ name: String, _ path: WritableKeyPath<Config, E>,
                                                                         default def: E) -> ConfigKey
    where E.RawValue == String {
        var k = choice(name, path, default: def)
        k.omittedAtDefault = { $0[keyPath: path] == def }
        return k
    }

    static func stringArray(_ name: String, _ path: WritableKeyPath<Config, [String]?>) -> ConfigKey {
        ConfigKey(name: name, kind: .stringArray, defaultValue: { _ in .null },
                  reset: { config, _ in config[keyPath: path] = nil },
                  read: { r, config in config[keyPath: path] = try r.stringArray(name, default: config[keyPath: path]) },
                  write: { c in c[keyPath: path].map { .array($0.map { .string($0) }) } ?? .null },
                  omittedAtDefault: { $0[keyPath: path] == nil })
    }

    static func privacy(_ name: String, _ path: WritableKeyPath<Config, PrivacyConfig?>) -> ConfigKey {
        ConfigKey(name: name, kind: .privacy, defaultValue: { _ in .null },
                  reset: { config, _ in config[keyPath: path] = nil },
                  read: { r, config in config[keyPath: path] = try PrivacyConfig.read(&r, key: name, current: config[keyPath: path]) },
                  write: { c in c[keyPath: path]?.json ?? .null },
                  omittedAtDefault: { $0[keyPath: path] == nil })
    }
}

/// One section of the config (`tokenizer`, `model`, `training`, `data`) and its keys, in
/// the order the resolved config writes them.
struct ConfigSection {
    let name: String
    let keys: [ConfigKey]

    init(_ name: String, _ keys: [ConfigKey]) {
        self.name = name
        self.keys = keys
    }
}
