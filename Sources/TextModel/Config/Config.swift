/// The whole model config: what docs/config.md documents, with the same defaults.
/// `Config.sections` declares every key once (name, kind, defaults, field); parsing
/// validates every value against it and `json` writes the resolved config from it.
public struct Config {
    /// The encoder `model.type` names. Raw values are the JSON spellings; error messages
    /// list them in case order.
    public enum ModelType: String, CaseIterable {
        case lstm, gru, rnn, bag, cnn
        /// Embedding + positions → encoder blocks → masked mean → head (layers = blocks,
        /// hidden_dim = feed-forward width, embedding_dim = model width, heads).
        case transformer

        /// The recurrent encoders (lstm, gru, rnn), which alone read `bidirectional`.
        public var isRecurrent: Bool { recurrentCell != nil }

        /// The cell a recurrent type runs; nil for the others.
        var recurrentCell: RecurrentCell? {
            switch self {
            case .lstm: return .lstm
            case .gru: return .gru
            case .rnn: return .rnn
            case .bag, .cnn, .transformer: return nil
            }
        }
    }

    /// How a recurrent model pools a text's hidden states, and a CNN its filters'
    /// outputs ("max" or "mean") (`model.pooling`).
    public typealias Pooling = SequencePooling

    /// `training.optimizer`.
    public enum OptimizerType: String, CaseIterable {
        case adam, adamw, sgd
    }

    /// `training.lr_schedule`: the learning-rate multiplier over the run (LearningRateSchedule).
    public enum LRSchedule: String, CaseIterable {
        case constant, linear, cosine, step
    }

    /// `training.early_stopping`: the validation metric training stops on, or none.
    public enum EarlyStoppingMetric: String, CaseIterable {
        case none
        case validLoss = "valid_loss"
        case validAccuracy = "valid_accuracy"
        case validMacroF1 = "valid_macro_f1"
    }

    /// `data.format`: how a labelled file is read (auto: by its name, see LabelledTexts).
    public enum DataFormat: String, CaseIterable {
        case auto, csv, fasttext, jsonl
    }

    /// What the model predicts for a text: one label of several (softmax, cross-entropy),
    /// any set of labels (a sigmoid per label, binary cross-entropy) or a number (MSE).
    public enum Task: String, CaseIterable {
        case singleLabel = "single_label"
        case multiLabel = "multi_label"
        case regression

        public var isClassification: Bool { self != .regression }
    }

    // The fields' initial values are the neural models' defaults, so that a section built
    // on its own (`Config.Tokenizer()`) has them; `Config.sections` holds the defaults of
    // every model type, and ConfigTests checks that the two agree.

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
        /// Where the word vocabulary comes from (tokenizer.vocabulary).
        public var vocabulary = VocabularySource.data
        /// Training sizes the buckets to the data: see BucketSizing (tokenizer.fit_buckets).
        public var fitBuckets = true

        public init() {}

        /// Words are hashed into the buckets instead of looked up in a word list.
        public var hashesWords: Bool { vocabulary == .hashed }

        /// Character n-grams of each word (subwords) are on when charNgramsMax > 0.
        public var usesCharNgrams: Bool { charNgramsMax > 0 }
        /// Feature ids beyond the vocabulary: hash buckets when word or char n-grams are on.
        public var hashedFeatures: Int { wordNgrams > 1 || usesCharNgrams || hashesWords ? buckets : 0 }
    }

    public struct Model {
        public var type = ModelType.lstm
        public var task = Task.singleLabel
        /// Multi-label: a label is predicted when its probability reaches this.
        public var threshold = 0.5
        public var embeddingDim = 100
        public var hiddenDim = 128
        public var layers = 1
        public var pooling = Pooling.max
        public var bidirectional = false
        public var dropout = 0.0
        public var kernelSizes = [3, 4, 5]
        public var filters = 100
        /// Transformer: attention heads per block; each reads embeddingDim / heads values.
        public var heads = 4
        public var pretrainedVectors: String? = nil
        public var freezeEmbeddings = false
        /// The label set, in output order, as the user gives it (nil: the training data's labels).
        public var labels: [String]? = nil

        public init() {}

        public var isRecurrent: Bool { type.isRecurrent }
    }

    public struct Training {
        public var optimizer = OptimizerType.adam
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
        /// Adam, AdamW and SGD with momentum or weight decay update only the embedding
        /// rows the step's texts used (and their optimizer state), as PyTorch's SparseAdam
        /// does: a step then costs what its texts touch, not the vocabulary.
        public var sparseUpdates = false
        public var progressEvery = 50
        public var maxMemoryMB = 8192
        public var lrSchedule = LRSchedule.constant
        public var warmupSteps = 0
        public var lrStepEpochs = 0
        public var lrStepFactor = 0.1
        public var nesterov = false
        public var weightDecay = 0.0
        public var clipNorm = 0.0
        public var labelSmoothing = 0.0
        public var classWeights = ClassWeights.none
        public var earlyStopping = EarlyStoppingMetric.none
        public var patience = 2
        public var validationFraction = 0.0
        public var augmentTokenDropout = 0.0
        public var augmentSwap = 0.0
        /// Where the trainer writes its state after every epoch (nil: nowhere).
        public var checkpointPath: String? = nil
        /// Continue from checkpointPath when that file exists.
        public var resume = false
        /// Differentially private training (DP-SGD); nil: off.
        public var privacy: PrivacyConfig? = nil

        public init() {}
    }

    public struct Data {
        public var format = DataFormat.auto
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
    public static let defaultModelType = ModelType.bag

    /// Every key, section by section, in the order the resolved config writes them, with
    /// its kind and its defaults. Most keys have one default for every type; the bag
    /// model's differ where its recipe differs from the neural models': it reads hashed
    /// word bigrams and character n-grams, keeps rare words (min_freq 1) and long texts,
    /// and learns by SGD on one example at a time at a high, linearly decaying rate,
    /// where the others use Adam on batches of 64. A transformer pools by masked mean.
    static let sections: [ConfigSection] = [
        ConfigSection("tokenizer", [
            .bool("lowercase", \.tokenizer.lowercase, default: true),
            .bool("replace_urls", \.tokenizer.replaceURLs, default: true),
            .int("min_freq", \.tokenizer.minFreq, 1...1_000_000_000, default: 2, bag: 1),
            .int("max_size", \.tokenizer.maxSize, 3...10_000_000, default: 50_000),
            .int("max_length", \.tokenizer.maxLength, 1...100_000, default: 128, bag: 1024),
            .int("word_ngrams", \.tokenizer.wordNgrams, 1...6, default: 1, bag: 2),
            .int("char_ngrams_min", \.tokenizer.charNgramsMin, 0...20, default: 0, bag: 3),
            .int("char_ngrams_max", \.tokenizer.charNgramsMax, 0...20, default: 0, bag: 5),
            .int("buckets", \.tokenizer.buckets, 1...10_000_000, default: 100_000, bag: 200_000),
            .newChoice("vocabulary", \.tokenizer.vocabulary, default: .data),
            // Omitted at its default: a trained model's config records the fitted
            // `buckets` itself, so its file stays readable by 0.4.0.
            .newBool("fit_buckets", \.tokenizer.fitBuckets, default: true),
        ]),
        ConfigSection("model", [
            // init(modelType:) sets the type itself; its default is the default model's.
            .choice("type", \.model.type, default: Config.defaultModelType),
            .choice("task", \.model.task, default: .singleLabel),
            .number("threshold", \.model.threshold, min: 0, max: 1, minExclusive: true, maxExclusive: true, default: 0.5),
            .int("embedding_dim", \.model.embeddingDim, 1...4096, default: 100),
            .int("hidden_dim", \.model.hiddenDim, 1...4096, default: 128),
            .int("layers", \.model.layers, 1...16, default: 1),
            .choice("pooling", \.model.pooling, default: .max, transformer: .mean),
            .bool("bidirectional", \.model.bidirectional, default: false),
            .number("dropout", \.model.dropout, min: 0, max: 1, maxExclusive: true, default: 0),
            .intArray("kernel_sizes", \.model.kernelSizes, 1...32, maxCount: 8, default: [3, 4, 5]),
            .int("filters", \.model.filters, 1...4096, default: 100),
            .int("heads", \.model.heads, 1...64, default: 4),
            .optionalString("pretrained_vectors", \.model.pretrainedVectors),
            .bool("freeze_embeddings", \.model.freezeEmbeddings, default: false),
            .stringArray("labels", \.model.labels),
        ]),
        ConfigSection("training", [
            .choice("optimizer", \.training.optimizer, default: .adam, bag: .sgd),
            .number("learning_rate", \.training.learningRate, min: 0, max: 100, minExclusive: true, default: 0.001, bag: 1.0),
            .number("momentum", \.training.momentum, min: 0, max: 1, maxExclusive: true, default: 0),
            .number("beta1", \.training.beta1, min: 0, max: 1, maxExclusive: true, default: 0.9),
            .number("beta2", \.training.beta2, min: 0, max: 1, maxExclusive: true, default: 0.999),
            .number("epsilon", \.training.epsilon, min: 0, max: 1, minExclusive: true, default: 1e-8),
            .int("batch_size", \.training.batchSize, 1...1_000_000, default: 64, bag: 1),
            .int("epochs", \.training.epochs, 1...100_000, default: 5),
            .int("seed", \.training.seed, 0...(1 << 53), default: 1),
            .int("threads", \.training.threads, 0...1024, default: 0),
            .bool("hogwild", \.training.hogwild, default: false, bag: true),
            .newBool("sparse_updates", \.training.sparseUpdates, default: false),
            .int("progress_every", \.training.progressEvery, 1...Int(Int32.max), default: 50, bag: 1000),
            .int("max_memory_mb", \.training.maxMemoryMB, 1...(1 << 30), default: 8192),
            .choice("lr_schedule", \.training.lrSchedule, default: .constant, bag: .linear),
            .int("warmup_steps", \.training.warmupSteps, 0...Int(Int32.max), default: 0),
            .int("lr_step_epochs", \.training.lrStepEpochs, 0...100_000, default: 0),
            .number("lr_step_factor", \.training.lrStepFactor, min: 0, max: 1, minExclusive: true, default: 0.1),
            .bool("nesterov", \.training.nesterov, default: false),
            .number("weight_decay", \.training.weightDecay, min: 0, max: 10, default: 0),
            .number("clip_norm", \.training.clipNorm, min: 0, max: 1e6, default: 0),
            .number("label_smoothing", \.training.labelSmoothing, min: 0, max: 1, maxExclusive: true, default: 0),
            .classWeights("class_weights", \.training.classWeights),
            .choice("early_stopping", \.training.earlyStopping, default: .none),
            .int("patience", \.training.patience, 1...100_000, default: 2),
            .number("validation_fraction", \.training.validationFraction, min: 0, max: 0.9, default: 0),
            .number("augment_token_dropout", \.training.augmentTokenDropout, min: 0, max: 1, maxExclusive: true, default: 0),
            .number("augment_swap", \.training.augmentSwap, min: 0, max: 1, default: 0),
            .optionalString("checkpoint_path", \.training.checkpointPath),
            .bool("resume", \.training.resume, default: false),
            .privacy("privacy", \.training.privacy),
        ]),
        ConfigSection("data", [
            .choice("format", \.data.format, default: .auto),
            .string("text_column", \.data.textColumn, default: "text"),
            .string("label_column", \.data.labelColumn, default: "label"),
            .string("label_separator", \.data.labelSeparator, default: "|"),
        ]),
    ]

    /// The defaults of the default model type (see `init(modelType:)`).
    public init() { self.init(modelType: Config.defaultModelType) }

    /// The defaults for one model type, as `Config.sections` declares them.
    public init(modelType: ModelType) {
        for section in Config.sections {
            for key in section.keys { key.reset(&self, modelType) }
        }
        model.type = modelType
    }

    /// Parses a JSON config; nil or the empty string gives the defaults. Any other text
    /// must be a JSON object: whitespace alone is malformed JSON.
    public init(json: String?) throws {
        guard let json = json, !json.isEmpty else { self.init(); return }
        if json.utf8.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) {
            throw TextModelError.config("the config is not valid JSON: it holds only whitespace (pass NULL or \"\" for the defaults, or a JSON object such as {})")
        }
        try self.init(value: JSONValue.parse(json, what: "the config"))
    }

    public init(value: JSONValue) throws {
        guard case .object = value else {
            throw TextModelError.config("the config must be a JSON object (got \(value.typeName))")
        }
        // Defaults depend on the model type, so it is looked up first. A missing one is
        // the default model; a bad one is reported when the model section is read below
        // (so errors still come in key order), and only its defaults are taken meanwhile.
        let given = value["model"]?["type"]?.stringValue
        self.init(modelType: ModelType.allCases.first { $0.rawValue == given } ?? Config.defaultModelType)
        // Task-dependent defaults (TaskDefaults) go in before the keys are read, so given keys win.
        let hogwildGiven = value["training"]?["hogwild"].map { if case .null = $0 { return false } else { return true } } ?? false
        let givenTask = Task.allCases.first { $0.rawValue == value["model"]?["task"]?.stringValue } ?? model.task
        TaskDefaults.apply(task: givenTask, to: &self)
        var root = try ConfigReader(value, path: "")
        for section in Config.sections {
            var reader = try root.section(section.name)
            for key in section.keys { try key.read(&reader, &self) }
            try reader.finish()
        }
        try root.finish()

        if tokenizer.wordNgrams > 1 && model.type != .bag {
            throw TextModelError.config("tokenizer.word_ngrams = \(tokenizer.wordNgrams) needs model.type \"bag\": the other models read word order themselves")
        }
        if tokenizer.usesCharNgrams && model.type != .bag {
            throw TextModelError.config("tokenizer.char_ngrams_max needs model.type \"bag\"")
        }
        if tokenizer.usesCharNgrams && (tokenizer.charNgramsMin < 1 || tokenizer.charNgramsMin > tokenizer.charNgramsMax) {
            throw TextModelError.config("tokenizer.char_ngrams_min must be between 1 and tokenizer.char_ngrams_max (\(tokenizer.charNgramsMax))")
        }
        if training.nesterov && (training.optimizer != .sgd || training.momentum == 0) {
            throw TextModelError.config("training.nesterov needs training.optimizer \"sgd\" with training.momentum > 0")
        }
        if model.freezeEmbeddings && model.pretrainedVectors == nil {
            throw TextModelError.config("model.freeze_embeddings needs model.pretrained_vectors: frozen random embeddings would never learn")
        }
        if model.bidirectional && !model.isRecurrent {
            throw TextModelError.config("model.bidirectional applies to recurrent models (lstm, gru, rnn), not \"\(model.type.rawValue)\"")
        }
        if model.type == .transformer {
            if model.embeddingDim % model.heads != 0 {
                throw TextModelError.config("model.heads = \(model.heads) must divide model.embedding_dim = \(model.embeddingDim) for model.type \"transformer\" (each head reads embedding_dim / heads values)")
            }
            if model.pooling != .mean {
                throw TextModelError.config("model.pooling \"\(model.pooling.rawValue)\" does not apply to model.type \"transformer\", which pools by masked mean: leave model.pooling out or set it to \"mean\"")
            }
        }
        if model.type == .cnn && model.pooling == .last {
            throw TextModelError.config("model.pooling \"last\" does not apply to model.type \"cnn\", which pools each filter over the text's positions: set it to \"max\" or \"mean\"")
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
        if model.task == .regression && training.earlyStopping != .none && training.earlyStopping != .validLoss {
            throw TextModelError.config("training.early_stopping \"\(training.earlyStopping.rawValue)\" needs a classifier; a regression model can stop on \"valid_loss\"")
        }
        if training.hogwild && !hogwildBlockers.isEmpty {
            // The bag model's default is Hogwild; a config that sets what Hogwild cannot
            // run (batches, Adam, clipping...) without naming hogwild trains data-parallel.
            if hogwildGiven {
                throw TextModelError.config("training.hogwild needs " + hogwildBlockers.joined(separator: ", "))
            }
            training.hogwild = false
        }
        if training.sparseUpdates && training.privacy != nil {
            throw TextModelError.config("training.sparse_updates does not apply with training.privacy: DP-SGD adds noise to every parameter, so every embedding row moves at every step")
        }
        try checkPrivacyAndSources()
        if training.lrSchedule == .step && training.lrStepEpochs == 0 {
            throw TextModelError.config("training.lr_step_epochs must be set (a positive integer) for training.lr_schedule \"step\"")
        }
    }

    /// What keeps training.hogwild from applying (empty when it can): Hogwild applies each
    /// example's plain-SGD update to the shared weights directly (HogwildStep), which
    /// only the bag model's sparse single-label step supports.
    public var hogwildBlockers: [String] {
        var needs = [String]()
        if model.type != .bag { needs.append("model.type \"bag\"") }
        if model.task != .singleLabel { needs.append("model.task \"single_label\"") }
        if training.optimizer != .sgd || training.momentum != 0 || training.weightDecay != 0 {
            needs.append("training.optimizer \"sgd\" with momentum 0 and weight_decay 0")
        }
        if training.batchSize != 1 { needs.append("training.batch_size 1") }
        if training.clipNorm != 0 { needs.append("training.clip_norm 0") }
        if training.augmentTokenDropout != 0 || training.augmentSwap != 0 { needs.append("no augmentation (augment_token_dropout and augment_swap 0)") }
        // DP-SGD clips and noises per-example gradients of whole batches (DPSGDStep).
        if training.privacy != nil { needs.append("no training.privacy") }
        return needs
    }

    /// Whether training runs HogwildStep: asked for (the bag model's default) and possible.
    /// A Config built in Swift and changed afterwards is not re-validated, hence the check.
    var usesHogwild: Bool { training.hogwild && hogwildBlockers.isEmpty }

    /// The settings a checkpoint must share with the run that resumes it: the resolved
    /// config but for the keys that may change between the two (epochs, threads,
    /// progress_every, max_memory_mb, checkpoint_path, resume).
    var checkpointIdentity: JSONValue {
        var copy = self
        // With training.privacy.target_epsilon, σ follows from the epochs: a run resumed
        // with other epochs would noise its steps with another σ than the accountant's.
        if training.privacy?.targetEpsilon == nil { copy.training.epochs = 1 }
        copy.training.threads = 0
        copy.training.progressEvery = 1
        copy.training.maxMemoryMB = 1
        copy.training.checkpointPath = nil
        copy.training.resume = false
        return copy.json
    }

    /// The resolved config, every key present. `hogwild` says what training does: false
    /// when something blocks it (a Config changed in Swift after Config() keeps the bag
    /// model's default true), so the text always parses back.
    public var json: JSONValue {
        var resolved = self
        resolved.training.hogwild = usesHogwild
        return .object(Config.sections.map { section in
            (section.name, .object(section.keys.filter { !($0.omittedAtDefault?(resolved) ?? false) }.map { ($0.name, $0.write(resolved)) }))
        })
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
