/// The whole model config: what docs/config.md documents, with the same defaults.
/// Parsing validates every value; `json` writes the resolved config back out.
public struct Config {
    /// Names of the encoders `model.type` accepts.
    public static let modelTypes = ["lstm", "gru", "rnn", "bag", "cnn"]

    /// What the model predicts for a text: one label of several (softmax, cross-entropy),
    /// any set of labels (a sigmoid per label, binary cross-entropy) or a number (MSE).
    public enum Task: String, CaseIterable {
        case singleLabel = "single_label"
        case multiLabel = "multi_label"
        case regression

        public var isClassification: Bool { self != .regression }
    }

    public struct Tokenizer {
        public var lowercase = true
        public var replaceURLs = true
        public var minFreq = 2
        public var maxSize = 50_000
        public var maxLength = 128
        public var wordNgrams = 1
        public var charNgramsMin = 0
        public var charNgramsMax = 0
        public var buckets = 100_000

        public init() {}

        /// Character n-grams of each word (subwords) are on when charNgramsMax > 0.
        public var usesCharNgrams: Bool { charNgramsMax > 0 }
        /// Feature ids beyond the vocabulary: hash buckets when word or char n-grams are on.
        public var hashedFeatures: Int { wordNgrams > 1 || usesCharNgrams ? buckets : 0 }
    }

    public struct Model {
        public var type = "lstm"
        public var task = Task.singleLabel
        /// Multi-label: a label is predicted when its probability reaches this.
        public var threshold = 0.5
        public var embeddingDim = 100
        public var hiddenDim = 128
        public var layers = 1
        public var pooling = "max"
        public var bidirectional = false
        public var dropout = 0.0
        public var kernelSizes = [3, 4, 5]
        public var filters = 100
        public var pretrainedVectors: String? = nil
        public var freezeEmbeddings = false

        public init() {}

        public var isRecurrent: Bool { type == "lstm" || type == "gru" || type == "rnn" }
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
        public var hogwild = false
        public var progressEvery = 50
        public var maxMemoryMB = 8192
        public var lrSchedule = "constant"
        public var warmupSteps = 0
        public var lrStepEpochs = 0
        public var lrStepFactor = 0.1
        public var nesterov = false
        public var weightDecay = 0.0
        public var clipNorm = 0.0
        public var labelSmoothing = 0.0
        public var classWeights = ClassWeights.none
        public var earlyStopping = "none"
        public var patience = 2
        public var validationFraction = 0.0
        public var augmentTokenDropout = 0.0
        public var augmentSwap = 0.0
        /// Where the trainer writes its state after every epoch (nil: nowhere).
        public var checkpointPath: String? = nil
        /// Continue from checkpointPath when that file exists.
        public var resume = false

        public init() {}
    }

    public struct Data {
        public var format = "auto"
        public var textColumn = "text"
        public var labelColumn = "label"
        /// Multi-label: separates the labels of one text in a CSV or JSONL label field.
        public var labelSeparator = "|"

        public init() {}
    }

    public var tokenizer = Tokenizer()
    public var model = Model()
    public var training = Training()
    public var data = Data()

    /// The library's default model, what an empty config trains: a bag of word, word
    /// bigram and character 3-5-gram embeddings, trained by SGD as fastText trains. It is
    /// the fastest model here and, measured over short and long texts, single tokens,
    /// and few and many classes (bench/default_model.py), the most robust.
    public static let defaultModelType = "bag"

    /// The defaults of the default model type (see `init(modelType:)`).
    public init() { self.init(modelType: Config.defaultModelType) }

    /// The defaults for one model type. Most keys have one default for every type; the
    /// bag model's differ where its recipe differs from the neural models': it reads
    /// hashed word bigrams and character n-grams, keeps rare words (min_freq 1) and
    /// long texts, and learns by SGD on one example at a time at a high, linearly
    /// decaying rate, where the others use Adam on batches of 64.
    public init(modelType: String) {
        model.type = modelType
        guard modelType == "bag" else { return }
        tokenizer.minFreq = 1
        tokenizer.maxLength = 1024
        tokenizer.wordNgrams = 2
        tokenizer.charNgramsMin = 3
        tokenizer.charNgramsMax = 5
        tokenizer.buckets = 200_000
        training.optimizer = "sgd"
        training.learningRate = 1.0
        training.batchSize = 1
        training.lrSchedule = "linear"
        training.progressEvery = 1000
    }

    /// Parses a JSON config; nil or an empty/blank string gives the defaults.
    public init(json: String?) throws {
        guard let json = json, json.contains(where: { !$0.isWhitespace }) else { self.init(); return }
        try self.init(value: JSONValue.parse(json, what: "the config"))
    }

    public init(value: JSONValue) throws {
        guard case .object = value else {
            throw TextModelError.config("the config must be a JSON object (got \(value.typeName))")
        }
        // Defaults depend on the model type, so it is read first (a bad one is reported
        // by the model section below).
        let type = value["model"]?["type"]?.stringValue ?? Config.defaultModelType
        self.init(modelType: Config.modelTypes.contains(type) ? type : Config.defaultModelType)
        var root = try ConfigReader(value, path: "")

        var t = try root.section("tokenizer")
        tokenizer.lowercase = try t.bool("lowercase", default: tokenizer.lowercase)
        tokenizer.replaceURLs = try t.bool("replace_urls", default: tokenizer.replaceURLs)
        tokenizer.minFreq = try t.int("min_freq", default: tokenizer.minFreq, min: 1, max: 1_000_000_000)
        tokenizer.maxSize = try t.int("max_size", default: tokenizer.maxSize, min: 3, max: 10_000_000)
        tokenizer.maxLength = try t.int("max_length", default: tokenizer.maxLength, min: 1, max: 100_000)
        tokenizer.wordNgrams = try t.int("word_ngrams", default: tokenizer.wordNgrams, min: 1, max: 6)
        tokenizer.charNgramsMin = try t.int("char_ngrams_min", default: tokenizer.charNgramsMin, min: 0, max: 20)
        tokenizer.charNgramsMax = try t.int("char_ngrams_max", default: tokenizer.charNgramsMax, min: 0, max: 20)
        tokenizer.buckets = try t.int("buckets", default: tokenizer.buckets, min: 1, max: 10_000_000)
        try t.finish()

        var m = try root.section("model")
        model.type = try m.string("type", default: model.type, oneOf: Config.modelTypes)
        model.task = Task(rawValue: try m.string("task", default: model.task.rawValue, oneOf: Task.allCases.map(\.rawValue))) ?? .singleLabel
        model.threshold = try m.double("threshold", default: model.threshold, min: 0, max: 1, minExclusive: true, maxExclusive: true)
        model.embeddingDim = try m.int("embedding_dim", default: model.embeddingDim, min: 1, max: 4096)
        model.hiddenDim = try m.int("hidden_dim", default: model.hiddenDim, min: 1, max: 4096)
        model.layers = try m.int("layers", default: model.layers, min: 1, max: 16)
        model.pooling = try m.string("pooling", default: model.pooling, oneOf: SequencePooling.allCases.map(\.rawValue))
        model.bidirectional = try m.bool("bidirectional", default: model.bidirectional)
        model.dropout = try m.double("dropout", default: model.dropout, min: 0, max: 1, maxExclusive: true)
        model.kernelSizes = try m.intArray("kernel_sizes", default: model.kernelSizes, min: 1, max: 32, maxCount: 8)
        model.filters = try m.int("filters", default: model.filters, min: 1, max: 4096)
        model.pretrainedVectors = try m.optionalString("pretrained_vectors")
        model.freezeEmbeddings = try m.bool("freeze_embeddings", default: model.freezeEmbeddings)
        try m.finish()

        var r = try root.section("training")
        training.optimizer = try r.string("optimizer", default: training.optimizer, oneOf: ["adam", "adamw", "sgd"])
        training.learningRate = try r.double("learning_rate", default: training.learningRate, min: 0, max: 100, minExclusive: true)
        training.momentum = try r.double("momentum", default: training.momentum, min: 0, max: 1, maxExclusive: true)
        training.beta1 = try r.double("beta1", default: training.beta1, min: 0, max: 1, maxExclusive: true)
        training.beta2 = try r.double("beta2", default: training.beta2, min: 0, max: 1, maxExclusive: true)
        training.epsilon = try r.double("epsilon", default: training.epsilon, min: 0, max: 1, minExclusive: true)
        training.batchSize = try r.int("batch_size", default: training.batchSize, min: 1, max: 1_000_000)
        training.epochs = try r.int("epochs", default: training.epochs, min: 1, max: 100_000)
        training.seed = UInt64(try r.int("seed", default: Int(training.seed), min: 0, max: 1 << 53))
        training.threads = try r.int("threads", default: training.threads, min: 0, max: 1024)
        training.hogwild = try r.bool("hogwild", default: training.hogwild)
        training.progressEvery = try r.int("progress_every", default: training.progressEvery, min: 1, max: Int(Int32.max))
        training.maxMemoryMB = try r.int("max_memory_mb", default: training.maxMemoryMB, min: 1, max: 1 << 30)
        training.lrSchedule = try r.string("lr_schedule", default: training.lrSchedule, oneOf: LearningRateSchedule.names)
        training.warmupSteps = try r.int("warmup_steps", default: training.warmupSteps, min: 0, max: Int(Int32.max))
        training.lrStepEpochs = try r.int("lr_step_epochs", default: training.lrStepEpochs, min: 0, max: 100_000)
        training.lrStepFactor = try r.double("lr_step_factor", default: training.lrStepFactor, min: 0, max: 1, minExclusive: true)
        training.nesterov = try r.bool("nesterov", default: training.nesterov)
        training.weightDecay = try r.double("weight_decay", default: training.weightDecay, min: 0, max: 10)
        training.clipNorm = try r.double("clip_norm", default: training.clipNorm, min: 0, max: 1e6)
        training.labelSmoothing = try r.double("label_smoothing", default: training.labelSmoothing, min: 0, max: 1, maxExclusive: true)
        training.classWeights = try r.classWeights("class_weights")
        training.earlyStopping = try r.string("early_stopping", default: training.earlyStopping,
                                              oneOf: ["none", "valid_loss", "valid_accuracy", "valid_macro_f1"])
        training.patience = try r.int("patience", default: training.patience, min: 1, max: 100_000)
        training.validationFraction = try r.double("validation_fraction", default: training.validationFraction, min: 0, max: 0.9)
        training.augmentTokenDropout = try r.double("augment_token_dropout", default: training.augmentTokenDropout, min: 0, max: 1, maxExclusive: true)
        training.augmentSwap = try r.double("augment_swap", default: training.augmentSwap, min: 0, max: 1)
        training.checkpointPath = try r.optionalString("checkpoint_path")
        training.resume = try r.bool("resume", default: training.resume)
        try r.finish()

        var d = try root.section("data")
        data.format = try d.string("format", default: data.format, oneOf: ["auto", "csv", "fasttext", "jsonl"])
        data.textColumn = try d.string("text_column", default: data.textColumn)
        data.labelColumn = try d.string("label_column", default: data.labelColumn)
        data.labelSeparator = try d.string("label_separator", default: data.labelSeparator)
        try d.finish()

        try root.finish()

        if tokenizer.wordNgrams > 1 && model.type != "bag" {
            throw TextModelError.config("tokenizer.word_ngrams = \(tokenizer.wordNgrams) needs model.type \"bag\": the other models read word order themselves")
        }
        if tokenizer.usesCharNgrams && model.type != "bag" {
            throw TextModelError.config("tokenizer.char_ngrams_max needs model.type \"bag\"")
        }
        if tokenizer.usesCharNgrams && (tokenizer.charNgramsMin < 1 || tokenizer.charNgramsMin > tokenizer.charNgramsMax) {
            throw TextModelError.config("tokenizer.char_ngrams_min must be between 1 and tokenizer.char_ngrams_max (\(tokenizer.charNgramsMax))")
        }
        if training.nesterov && (training.optimizer != "sgd" || training.momentum == 0) {
            throw TextModelError.config("training.nesterov needs training.optimizer \"sgd\" with training.momentum > 0")
        }
        if model.freezeEmbeddings && model.pretrainedVectors == nil {
            throw TextModelError.config("model.freeze_embeddings needs model.pretrained_vectors: frozen random embeddings would never learn")
        }
        if model.bidirectional && !model.isRecurrent {
            throw TextModelError.config("model.bidirectional applies to recurrent models (lstm, gru, rnn), not \"\(model.type)\"")
        }
        if training.resume && training.checkpointPath == nil {
            throw TextModelError.config("training.resume needs training.checkpoint_path: the checkpoint to continue from")
        }
        if data.labelSeparator.isEmpty {
            throw TextModelError.config("data.label_separator must not be empty")
        }
        if model.task != .singleLabel {
            if training.labelSmoothing > 0 {
                throw TextModelError.config("training.label_smoothing applies to model.task \"single_label\", not \"\(model.task.rawValue)\"")
            }
            if case .none = training.classWeights {} else {
                throw TextModelError.config("training.class_weights applies to model.task \"single_label\", not \"\(model.task.rawValue)\"")
            }
        }
        if model.task == .regression && training.earlyStopping != "none" && training.earlyStopping != "valid_loss" {
            throw TextModelError.config("training.early_stopping \"\(training.earlyStopping)\" needs a classifier; a regression model can stop on \"valid_loss\"")
        }
        if training.hogwild {
            // Hogwild applies each example's plain-SGD update to the shared weights
            // directly (HogwildTrainer), which only the bag model's sparse step supports.
            var needs = [String]()
            if model.type != "bag" { needs.append("model.type \"bag\"") }
            if model.task != .singleLabel { needs.append("model.task \"single_label\"") }
            if training.optimizer != "sgd" || training.momentum != 0 || training.weightDecay != 0 {
                needs.append("training.optimizer \"sgd\" with momentum 0 and weight_decay 0")
            }
            if training.batchSize != 1 { needs.append("training.batch_size 1") }
            if training.clipNorm != 0 { needs.append("training.clip_norm 0") }
            if training.augmentTokenDropout != 0 || training.augmentSwap != 0 { needs.append("no augmentation (augment_token_dropout and augment_swap 0)") }
            if !needs.isEmpty {
                throw TextModelError.config("training.hogwild needs " + needs.joined(separator: ", "))
            }
        }
        if training.lrSchedule == "step" && training.lrStepEpochs == 0 {
            throw TextModelError.config("training.lr_step_epochs must be set (a positive integer) for training.lr_schedule \"step\"")
        }
    }

    /// The settings a checkpoint must share with the run that resumes it: the resolved
    /// config but for the keys that may change between the two (epochs, threads,
    /// progress_every, max_memory_mb, checkpoint_path, resume).
    var checkpointIdentity: JSONValue {
        var copy = self
        copy.training.epochs = 1
        copy.training.threads = 0
        copy.training.progressEvery = 1
        copy.training.maxMemoryMB = 1
        copy.training.checkpointPath = nil
        copy.training.resume = false
        return copy.json
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
                ("char_ngrams_min", .int(Int64(tokenizer.charNgramsMin))),
                ("char_ngrams_max", .int(Int64(tokenizer.charNgramsMax))),
                ("buckets", .int(Int64(tokenizer.buckets))),
            ])),
            ("model", .object([
                ("type", .string(model.type)),
                ("task", .string(model.task.rawValue)),
                ("threshold", .double(model.threshold)),
                ("embedding_dim", .int(Int64(model.embeddingDim))),
                ("hidden_dim", .int(Int64(model.hiddenDim))),
                ("layers", .int(Int64(model.layers))),
                ("pooling", .string(model.pooling)),
                ("bidirectional", .bool(model.bidirectional)),
                ("dropout", .double(model.dropout)),
                ("kernel_sizes", .array(model.kernelSizes.map { .int(Int64($0)) })),
                ("filters", .int(Int64(model.filters))),
                ("pretrained_vectors", model.pretrainedVectors.map { .string($0) } ?? .null),
                ("freeze_embeddings", .bool(model.freezeEmbeddings)),
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
                ("hogwild", .bool(training.hogwild)),
                ("progress_every", .int(Int64(training.progressEvery))),
                ("max_memory_mb", .int(Int64(training.maxMemoryMB))),
                ("lr_schedule", .string(training.lrSchedule)),
                ("warmup_steps", .int(Int64(training.warmupSteps))),
                ("lr_step_epochs", .int(Int64(training.lrStepEpochs))),
                ("lr_step_factor", .double(training.lrStepFactor)),
                ("nesterov", .bool(training.nesterov)),
                ("weight_decay", .double(training.weightDecay)),
                ("clip_norm", .double(training.clipNorm)),
                ("label_smoothing", .double(training.labelSmoothing)),
                ("class_weights", training.classWeights.json),
                ("early_stopping", .string(training.earlyStopping)),
                ("patience", .int(Int64(training.patience))),
                ("validation_fraction", .double(training.validationFraction)),
                ("augment_token_dropout", .double(training.augmentTokenDropout)),
                ("augment_swap", .double(training.augmentSwap)),
                ("checkpoint_path", training.checkpointPath.map { .string($0) } ?? .null),
                ("resume", .bool(training.resume)),
            ])),
            ("data", .object([
                ("format", .string(data.format)),
                ("text_column", .string(data.textColumn)),
                ("label_column", .string(data.labelColumn)),
                ("label_separator", .string(data.labelSeparator)),
            ])),
        ])
    }
}

/// How training weighs each class's examples in the loss.
public enum ClassWeights {
    case none
    /// n / (classes · count(class)), as scikit-learn's "balanced".
    case balanced
    case explicit([String: Double])

    var json: JSONValue {
        switch self {
        case .none: return .null
        case .balanced: return .string("balanced")
        case .explicit(let w):
            return .object(w.sorted { Array($0.key.utf8).lexicographicallyPrecedes($1.key.utf8) }.map { ($0.key, .double($0.value)) })
        }
    }
}
