/// The whole model config: what docs/config.md documents, with the same defaults.
/// Parsing validates every value; `json` writes the resolved config back out.
public struct Config {
    public struct Tokenizer {
        public var lowercase = true
        public var replaceURLs = true
        public var minFreq = 2
        public var maxSize = 50_000
        public var maxLength = 128
        public var wordNgrams = 1
        public var buckets = 100_000

        /// Feature ids beyond the vocabulary: hash buckets when n-grams are on.
        public var hashedFeatures: Int { wordNgrams > 1 ? buckets : 0 }
    }

    public struct Model {
        public var type = "lstm"
        public var embeddingDim = 100
        public var hiddenDim = 128
        public var layers = 1
        public var pooling = "max"
    }

    public struct Training {
        public var optimizer = "adam"
        public var learningRate = 0.001
        public var momentum = 0.0
        public var beta1 = 0.9
        public var beta2 = 0.999
        public var epsilon = 1e-8
        public var batchSize = 64
        public var epochs = 5
        public var seed: UInt64 = 1
        public var threads = 0
        public var progressEvery = 50
        public var maxMemoryMB = 8192
        public var lrSchedule = "constant"
        public var warmupSteps = 0
        public var lrStepEpochs = 0
        public var lrStepFactor = 0.1
    }

    public struct Data {
        public var format = "auto"
        public var textColumn = "text"
        public var labelColumn = "label"
    }

    public var tokenizer = Tokenizer()
    public var model = Model()
    public var training = Training()
    public var data = Data()

    public init() {}

    /// Parses a JSON config; nil or an empty/blank string gives the defaults.
    public init(json: String?) throws {
        guard let json = json, json.contains(where: { !$0.isWhitespace }) else { self.init(); return }
        try self.init(value: JSONValue.parse(json, what: "the config"))
    }

    public init(value: JSONValue) throws {
        guard case .object = value else {
            throw TextModelError.config("the config must be a JSON object (got \(value.typeName))")
        }
        var root = try ConfigReader(value, path: "")

        var t = try root.section("tokenizer")
        tokenizer.lowercase = try t.bool("lowercase", default: tokenizer.lowercase)
        tokenizer.replaceURLs = try t.bool("replace_urls", default: tokenizer.replaceURLs)
        tokenizer.minFreq = try t.int("min_freq", default: tokenizer.minFreq, min: 1, max: 1_000_000_000)
        tokenizer.maxSize = try t.int("max_size", default: tokenizer.maxSize, min: 3, max: 10_000_000)
        tokenizer.maxLength = try t.int("max_length", default: tokenizer.maxLength, min: 1, max: 100_000)
        tokenizer.wordNgrams = try t.int("word_ngrams", default: tokenizer.wordNgrams, min: 1, max: 6)
        tokenizer.buckets = try t.int("buckets", default: tokenizer.buckets, min: 1, max: 10_000_000)
        try t.finish()

        var m = try root.section("model")
        model.type = try m.string("type", default: model.type, oneOf: ["lstm", "bag"])
        model.embeddingDim = try m.int("embedding_dim", default: model.embeddingDim, min: 1, max: 4096)
        model.hiddenDim = try m.int("hidden_dim", default: model.hiddenDim, min: 1, max: 4096)
        model.layers = try m.int("layers", default: model.layers, min: 1, max: 16)
        model.pooling = try m.string("pooling", default: model.pooling, oneOf: SequencePooling.allCases.map(\.rawValue))
        try m.finish()

        var r = try root.section("training")
        training.optimizer = try r.string("optimizer", default: training.optimizer, oneOf: ["adam", "sgd"])
        training.learningRate = try r.double("learning_rate", default: training.learningRate, min: 0, max: 100, minExclusive: true)
        training.momentum = try r.double("momentum", default: training.momentum, min: 0, max: 1, maxExclusive: true)
        training.beta1 = try r.double("beta1", default: training.beta1, min: 0, max: 1, maxExclusive: true)
        training.beta2 = try r.double("beta2", default: training.beta2, min: 0, max: 1, maxExclusive: true)
        training.epsilon = try r.double("epsilon", default: training.epsilon, min: 0, max: 1, minExclusive: true)
        training.batchSize = try r.int("batch_size", default: training.batchSize, min: 1, max: 1_000_000)
        training.epochs = try r.int("epochs", default: training.epochs, min: 1, max: 100_000)
        training.seed = UInt64(try r.int("seed", default: Int(training.seed), min: 0, max: 1 << 53))
        training.threads = try r.int("threads", default: training.threads, min: 0, max: 1024)
        training.progressEvery = try r.int("progress_every", default: training.progressEvery, min: 1, max: Int(Int32.max))
        training.maxMemoryMB = try r.int("max_memory_mb", default: training.maxMemoryMB, min: 1, max: 1 << 30)
        training.lrSchedule = try r.string("lr_schedule", default: training.lrSchedule, oneOf: LearningRateSchedule.names)
        training.warmupSteps = try r.int("warmup_steps", default: training.warmupSteps, min: 0, max: Int(Int32.max))
        training.lrStepEpochs = try r.int("lr_step_epochs", default: training.lrStepEpochs, min: 0, max: 100_000)
        training.lrStepFactor = try r.double("lr_step_factor", default: training.lrStepFactor, min: 0, max: 1, minExclusive: true)
        try r.finish()

        var d = try root.section("data")
        data.format = try d.string("format", default: data.format, oneOf: ["auto", "csv", "fasttext"])
        data.textColumn = try d.string("text_column", default: data.textColumn)
        data.labelColumn = try d.string("label_column", default: data.labelColumn)
        try d.finish()

        try root.finish()

        if tokenizer.wordNgrams > 1 && model.type != "bag" {
            throw TextModelError.config("tokenizer.word_ngrams = \(tokenizer.wordNgrams) needs model.type \"bag\": a recurrent model reads the word order itself")
        }
        if training.lrSchedule == "step" && training.lrStepEpochs == 0 {
            throw TextModelError.config("training.lr_step_epochs must be set (a positive integer) for training.lr_schedule \"step\"")
        }
    }

    /// The resolved config, every key present.
    public var json: JSONValue {
        .object([
            ("tokenizer", .object([
                ("lowercase", .bool(tokenizer.lowercase)),
                ("replace_urls", .bool(tokenizer.replaceURLs)),
                ("min_freq", .int(Int64(tokenizer.minFreq))),
                ("max_size", .int(Int64(tokenizer.maxSize))),
                ("max_length", .int(Int64(tokenizer.maxLength))),
                ("word_ngrams", .int(Int64(tokenizer.wordNgrams))),
                ("buckets", .int(Int64(tokenizer.buckets))),
            ])),
            ("model", .object([
                ("type", .string(model.type)),
                ("embedding_dim", .int(Int64(model.embeddingDim))),
                ("hidden_dim", .int(Int64(model.hiddenDim))),
                ("layers", .int(Int64(model.layers))),
                ("pooling", .string(model.pooling)),
            ])),
            ("training", .object([
                ("optimizer", .string(training.optimizer)),
                ("learning_rate", .double(training.learningRate)),
                ("momentum", .double(training.momentum)),
                ("beta1", .double(training.beta1)),
                ("beta2", .double(training.beta2)),
                ("epsilon", .double(training.epsilon)),
                ("batch_size", .int(Int64(training.batchSize))),
                ("epochs", .int(Int64(training.epochs))),
                ("seed", .int(Int64(training.seed))),
                ("threads", .int(Int64(training.threads))),
                ("progress_every", .int(Int64(training.progressEvery))),
                ("max_memory_mb", .int(Int64(training.maxMemoryMB))),
                ("lr_schedule", .string(training.lrSchedule)),
                ("warmup_steps", .int(Int64(training.warmupSteps))),
                ("lr_step_epochs", .int(Int64(training.lrStepEpochs))),
                ("lr_step_factor", .double(training.lrStepFactor)),
            ])),
            ("data", .object([
                ("format", .string(data.format)),
                ("text_column", .string(data.textColumn)),
                ("label_column", .string(data.labelColumn)),
            ])),
        ])
    }
}
