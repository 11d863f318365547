/// Reads one JSON object of a config, key by key, and reports problems with the full
/// key path ("model.hidden_dim must be ..."). `finish()` rejects keys nobody asked for.
struct ConfigReader {
    let path: String
    private let members: [(String, JSONValue)]
    private var consumed = Set<String>()

    init(_ value: JSONValue?, path: String) throws {
        self.path = path
        switch value {
        case nil, .null?: members = []
        case .object(let m)?: members = m
        case let other?: throw TextModelError.config("\(path) must be an object (got \(other.typeName))")
        }
    }

    /// A key as messages name it; a key the caller gave is echoed shortened (echo).
    private func keyPath(_ key: String) -> String { path.isEmpty ? echo(key) : "\(path).\(echo(key))" }

    private mutating func take(_ key: String) -> JSONValue? {
        consumed.insert(key)
        guard let v = members.last(where: { $0.0 == key })?.1 else { return nil }
        if case .null = v { return nil }
        return v
    }

    /// Whether the object gives `key` a value other than null (the key counts as read).
    mutating func has(_ key: String) -> Bool {
        consumed.insert(key)
        return take(key) != nil
    }

    /// A non-empty array of distinct non-empty strings, or `def` when absent or null.
    mutating func stringArray(_ key: String, default def: [String]?) throws -> [String]? {
        guard let v = take(key) else { return def }
        guard case .array(let items) = v, !items.isEmpty else {
            throw TextModelError.config("\(keyPath(key)) must be a non-empty array of strings or null (got \(v.typeName))")
        }
        var seen = Set<String>(), out = [String]()
        for (i, item) in items.enumerated() {
            guard case .string(let s) = item, !s.isEmpty else {
                throw TextModelError.config("\(keyPath(key))[\(i)] must be a non-empty string")
            }
            try refuseNUL(s, key)
            guard seen.insert(s).inserted else {
                throw TextModelError.config("\(keyPath(key)) lists \"\(echo(s))\" twice")
            }
            out.append(s)
        }
        return out
    }

    mutating func section(_ key: String) throws -> ConfigReader {
        try ConfigReader(take(key), path: keyPath(key))
    }

    mutating func bool(_ key: String, default def: Bool) throws -> Bool {
        guard let v = take(key) else { return def }
        guard case .bool(let b) = v else {
            throw TextModelError.config("\(keyPath(key)) must be true or false (got \(v.typeName))")
        }
        return b
    }

    mutating func int(_ key: String, default def: Int, min: Int, max: Int, what: String = "an integer") throws -> Int {
        guard let v = take(key) else { return def }
        let range = "between \(min) and \(max)"
        switch v {
        case .int(let i):
            // json-c saturates integers beyond 64 bits at the extremes.
            if i == Int64.max || i == Int64.min {
                throw TextModelError.config("\(keyPath(key)) must be \(range) (got a number beyond 64-bit range)")
            }
            guard i >= Int64(min), i <= Int64(max) else {
                if min == 1 && i <= 0 { throw TextModelError.config("\(keyPath(key)) must be a positive integer (got \(i))") }
                throw TextModelError.config("\(keyPath(key)) must be \(range) (got \(i))")
            }
            return Int(i)
        case .double(let d) where d == d.rounded() && abs(d) < 9e15:
            return try int(fromWhole: Int64(d), key: key, min: min, max: max)
        default:
            throw TextModelError.config("\(keyPath(key)) must be \(what) \(range) (got \(v.typeName))")
        }
    }

    private func int(fromWhole i: Int64, key: String, min: Int, max: Int) throws -> Int {
        guard i >= Int64(min), i <= Int64(max) else {
            throw TextModelError.config("\(keyPath(key)) must be between \(min) and \(max) (got \(i))")
        }
        return Int(i)
    }

    /// A number in [min, max] (or (min, max] when `minExclusive`).
    mutating func double(_ key: String, default def: Double, min: Double, max: Double,
                         minExclusive: Bool = false, maxExclusive: Bool = false) throws -> Double {
        guard let v = take(key) else { return def }
        guard let d = v.doubleValue else {
            throw TextModelError.config("\(keyPath(key)) must be a number (got \(v.typeName))")
        }
        guard d.isFinite else { throw TextModelError.config("\(keyPath(key)) must be a finite number (got \(d))") }
        let lowOK = minExclusive ? d > min : d >= min
        let highOK = maxExclusive ? d < max : d <= max
        guard lowOK, highOK else {
            let low = minExclusive ? "greater than \(min)" : "at least \(min)"
            let high = maxExclusive ? "less than \(max)" : "at most \(max)"
            throw TextModelError.config("\(keyPath(key)) must be \(low) and \(high) (got \(d))")
        }
        return d
    }

    /// A non-empty string.
    mutating func string(_ key: String, default def: String) throws -> String {
        guard let v = take(key) else { return def }
        guard case .string(let s) = v else {
            throw TextModelError.config("\(keyPath(key)) must be a string (got \(v.typeName))")
        }
        if s.isEmpty {
            throw TextModelError.config("\(keyPath(key)) must not be empty")
        }
        try refuseNUL(s, key)
        return s
    }

    /// One of an enum's cases, spelt as its raw value; an error lists them in case order.
    mutating func choice<E: CaseIterable & RawRepresentable>(_ key: String, default def: E) throws -> E where E.RawValue == String {
        guard let v = take(key) else { return def }
        guard case .string(let s) = v else {
            throw TextModelError.config("\(keyPath(key)) must be a string (got \(v.typeName))")
        }
        guard let choice = E.allCases.first(where: { $0.rawValue == s }) else {
            let list = E.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
            throw TextModelError.config("\(keyPath(key)) must be one of \(list) (got \"\(echo(s))\")")
        }
        return choice
    }

    /// A non-empty string, or `def` when the key is absent or null.
    mutating func optionalString(_ key: String, default def: String? = nil) throws -> String? {
        guard let v = take(key) else { return def }
        guard case .string(let s) = v, !s.isEmpty else {
            throw TextModelError.config("\(keyPath(key)) must be a non-empty string or null (got \(v.typeName))")
        }
        try refuseNUL(s, key)
        return s
    }

    /// A non-empty array of integers, each in [min, max].
    mutating func intArray(_ key: String, default def: [Int], min: Int, max: Int, maxCount: Int) throws -> [Int] {
        guard let v = take(key) else { return def }
        guard case .array(let items) = v, !items.isEmpty, items.count <= maxCount else {
            throw TextModelError.config("\(keyPath(key)) must be an array of 1 to \(maxCount) integers (got \(v.typeName))")
        }
        return try items.enumerated().map { i, item in
            guard let d = item.doubleValue, d == d.rounded(), d >= Double(min), d <= Double(max) else {
                throw TextModelError.config("\(keyPath(key))[\(i)] must be an integer between \(min) and \(max)")
            }
            return Int(d)
        }
    }

    /// Class weights: null (`def`), "balanced", or an object mapping labels to weights > 0.
    mutating func classWeights(_ key: String, default def: ClassWeights = .none) throws -> ClassWeights {
        guard let v = take(key) else { return def }
        switch v {
        case .string("balanced"): return .balanced
        case .object(let members):
            var weights = [String: Double]()
            for (label, value) in members {
                guard let w = value.doubleValue, w.isFinite, w > 0 else {
                    throw TextModelError.config("\(keyPath(key)).\(echo(label)) must be a number greater than 0")
                }
                weights[label] = w
            }
            return .explicit(weights)
        default:
            throw TextModelError.config("\(keyPath(key)) must be \"balanced\" or an object of label weights (got \(v.typeName))")
        }
    }

    /// String values reach C (file paths, column names) where a NUL would silently end
    /// them: "a.vec\u0000x" would open a.vec.
    private func refuseNUL(_ s: String, _ key: String) throws {
        if s.utf8.contains(0) {
            throw TextModelError.config("\(keyPath(key)) must not contain a NUL character (\\u0000) (got \"\(echo(s))\")")
        }
    }

    /// Fails on the first key that was never read.
    func finish() throws {
        for (key, _) in members where !consumed.contains(key) {
            let known = consumed.sorted().joined(separator: ", ")
            throw TextModelError.config("\(keyPath(key)) is not a known key (known keys\(path.isEmpty ? "" : " in \(path)"): \(known))")
        }
    }
}
