/// What an autotune search is asked to do (docs/autotune.md): the metric it maximises
/// or minimises on the validation data, its budgets, an optional model-size limit, the
/// seed of its draws, the model types it may try and the config keys every trial keeps.
/// Parsed from a JSON object whose keys are checked as strictly as a config's.
public struct AutotuneOptions {
    /// The search stops starting trials after this many seconds and cuts the one running
    /// then (a cut trial never becomes the result). Machine-dependent: see `maxTrials`.
    public var timeBudgetSeconds = 300.0
    /// The search stops after this many trials (skipped ones included); nil = no limit.
    /// With a time budget generous enough, the same seed gives the same trials.
    public var maxTrials: Int? = nil
    /// Largest serialized model accepted, in MB (1 MB = 1,000,000 bytes, as file
    /// managers count); nil = no limit.
    public var maxModelMB: Double? = nil
    public var metric = AutotuneMetric.accuracy
    public var task: Config.Task = .singleLabel
    /// Seeds the draws of configs and every trial's training.seed.
    public var seed: UInt64 = 1
    /// training.threads of every trial (0 = every core), written into each trial's
    /// config as the resolved count, so a config from the table retrains to its score.
    public var threads = 0
    /// The model types the search draws from, in the order given.
    /// The recurrent types and the transformer train far slower than these two; list
    /// them for long budgets.
    public var modelTypes: [Config.ModelType] = [.bag, .cnn]
    /// Config keys every trial keeps (they win over the drawn ones), e.g. the data
    /// section or training.epochs. A JSON object shaped like a config.
    public var baseConfig: JSONValue = .object([])

    public init() {}

    /// Parses options JSON; nil, "" or "{}" give the defaults. Errors are
    /// TextModelError.config naming the key.
    public init(json: String?) throws {
        self.init()
        guard let json = json, !json.isEmpty else { return }
        try self.init(value: JSONValue.parse(json, what: "the autotune options"))
    }

    public init(value: JSONValue) throws {
        self.init()
        guard case .object = value else {
            throw TextModelError.config("the autotune options must be a JSON object (got \(value.typeName))")
        }
        let known = ["metric", "task", "time_budget", "max_trials", "max_model_mb", "seed", "threads", "model_types", "config"]
        for (key, _) in value.objectValue ?? [] where !known.contains(key) {
            throw TextModelError.config("\(Self.shortened(key)) is not a known autotune option (known: \(known.joined(separator: ", ")))")
        }
        var reader = try ConfigReader(value, path: "")
        timeBudgetSeconds = try reader.double("time_budget", default: timeBudgetSeconds, min: 0, max: 1e9, minExclusive: true)
        let trials = try reader.int("max_trials", default: 0, min: 1, max: 1_000_000_000, what: "a positive integer")
        if let given = value["max_trials"], given.typeName != "null" { maxTrials = trials }
        if let mb = value["max_model_mb"], mb.doubleValue != nil {
            maxModelMB = try reader.double("max_model_mb", default: 0, min: 0, max: 1e9, minExclusive: true)
        } else if let mb = value["max_model_mb"], mb.typeName != "null" {
            throw TextModelError.config("max_model_mb must be a number of MB greater than 0, or null for no limit (got \(mb.typeName))")
        }
        seed = UInt64(try reader.int("seed", default: 1, min: 0, max: 1 << 53))
        threads = try reader.int("threads", default: 0, min: 0, max: Model.maxThreads)
        let metricName = try reader.optionalString("metric")
        let taskGiven = try reader.optionalString("task")
        if let types = value["model_types"], types.typeName != "null" {
            modelTypes = try AutotuneOptions.modelTypes(types)
        }
        if let base = value["config"], base.typeName != "null" {
            guard case .object = base else {
                throw TextModelError.config("config must be an object of config sections (got \(base.typeName))")
            }
            // Checked now, as a whole config, so a bad key fails before any training.
            do { _ = try Config(value: base) } catch let e as TextModelError {
                throw TextModelError.config("config: \(e.message)")
            }
            baseConfig = base
        }

        if let name = taskGiven {
            guard let t = Config.Task.allCases.first(where: { $0.rawValue == name }) else {
                throw TextModelError.config("task must be one of \"single_label\", \"multi_label\", \"regression\" (got \"\(name)\")")
            }
            task = t
        } else if let t = baseConfig["model"]?["task"]?.stringValue, let given = Config.Task(rawValue: t) {
            task = given
        } else if let name = metricName, AutotuneMetric.regressionNames.contains(name) {
            task = .regression
        }
        metric = try metricName.map { try AutotuneMetric(name: $0, task: task) } ?? (task == .regression ? .rmse : .accuracy)
        if let t = baseConfig["model"]?["task"]?.stringValue, t != task.rawValue {
            throw TextModelError.config("config.model.task \"\(t)\" contradicts task \"\(task.rawValue)\"")
        }
    }

    /// Refuses values a Swift caller may set directly that no JSON parse lets through.
    func check() throws {
        guard timeBudgetSeconds.isFinite, timeBudgetSeconds > 0 else {
            throw TextModelError.config("time_budget must be a number of seconds greater than 0 (got \(timeBudgetSeconds))")
        }
        if let n = maxTrials, n < 1 { throw TextModelError.config("max_trials must be a positive integer (got \(n))") }
        if let mb = maxModelMB, !(mb.isFinite && mb > 0) {
            throw TextModelError.config("max_model_mb must be a number of MB greater than 0, or null for no limit (got \(mb))")
        }
        guard !modelTypes.isEmpty else { throw TextModelError.config("model_types must name at least one model type") }
        guard threads >= 0, threads <= Model.maxThreads else {
            throw TextModelError.config("threads must be between 0 (every core) and \(Model.maxThreads) (got \(threads))")
        }
        if metric.isRegression != (task == .regression) {
            throw TextModelError.config("metric \"\(metric.name)\" does not fit task \"\(task.rawValue)\"")
        }
    }

    private static func modelTypes(_ value: JSONValue) throws -> [Config.ModelType] {
        guard let items = value.arrayValue, !items.isEmpty else {
            throw TextModelError.config("model_types must be a non-empty array of model types (got \(value.typeName))")
        }
        var types = [Config.ModelType]()
        for item in items {
            guard let name = item.stringValue, let type = Config.ModelType(rawValue: name) else {
                let list = Config.ModelType.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
                throw TextModelError.config("model_types may hold \(list) (got \(item.stringValue.map { "\"\($0)\"" } ?? item.typeName))")
            }
            if !types.contains(type) { types.append(type) }
        }
        return types
    }

    /// A key echoed in a message, cut to 64 characters.
    static func shortened(_ key: String) -> String {
        key.count <= 64 ? key : String(key.prefix(64)) + "…"
    }

    /// The options as JSON, every key present (the trial table repeats them).
    public var json: JSONValue {
        .object([
            ("metric", .string(metric.name)),
            ("task", .string(task.rawValue)),
            ("time_budget", .double(timeBudgetSeconds)),
            ("max_trials", maxTrials.map { .int(Int64($0)) } ?? .null),
            ("max_model_mb", maxModelMB.map { .double($0) } ?? .null),
            ("seed", .int(Int64(seed))),
            ("threads", .int(Int64(threads))),
            ("model_types", .array(modelTypes.map { .string($0.rawValue) })),
            ("config", baseConfig),
        ])
    }
}

extension AutotuneOptions {
    /// Options from the JSON file at `path` (nil: the defaults) with `KEY.PATH=VALUE`
    /// overrides applied in order, read as config overrides are (`Config(contentsOf:
    /// overrides:)`): what `textmodel autotune --options FILE --set time_budget=60` gives.
    public init(contentsOf path: String?, overrides: [String]) throws {
        var root = JSONValue.object([])
        if let path = path {
            var bytes = try FileIO.readAll(path, limit: 64 << 20, limitName: "the 64 MB options file limit")
            root = try JSONValue.parse(bytes: &bytes, what: "the autotune options file \(path)")
        }
        try self.init(value: overrides.reduce(root) { try Config.applying($1, to: $0) })
    }
}
