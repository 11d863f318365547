/// Training data ready for the trainer: labels, vocabulary, encoded examples with their
/// targets, and the validation examples (given, or split off the training data when
/// training.validation_fraction asks for it). Regression targets are standardised for
/// training (`scaling`); validation targets stay as given, since the model predicts in
/// the data's own units.
struct TrainingSet {
    let labels: [String]
    let vocabulary: Vocabulary
    let encoder: FeatureEncoder
    /// The tokenizer config the examples are encoded with: the given one, with
    /// `buckets` fitted to the data when tokenizer.fit_buckets (BucketSizing).
    let tokenizer: Config.Tokenizer
    /// Encoded training texts: flat (one buffer for the whole set, see EncodedTexts), or
    /// for the bag model with Hogwild their words, expanded as they are trained on
    /// (CompactTexts), so that the set grows ~16× slower with the corpus.
    let examples: TrainingExamples
    let targets: Targets
    let scaling: TargetScaling
    let validExamples: EncodedTexts
    let validTargets: Targets
    let validationSkipped: Int
    /// Training rows skipped: with an empty text, with a missing label.
    let skippedEmptyText: Int
    let skippedMissingLabel: Int

    /// Outputs per example: the number of labels, or 1 for regression.
    var width: Int { targets.width }

    /// Takes the rows over from `data`: each raw text is freed as soon as it is encoded,
    /// and the label strings once they are targets, so a big file's texts and its
    /// encoded set are not both whole in memory (when the caller handed `data` over
    /// rather than keeping a copy). With `counts`, the vocabulary and labels are built
    /// from those (everyone's rows, see CorpusCounts) instead of from `data`.
    init(config: Config, data: consuming LabelledTexts, validation: LabelledTexts?, counts: CorpusCounts? = nil) throws {
        guard data.count > 0 else {
            throw TextModelError.data("no usable training rows (\(data.skippedEmptyText) with an empty text and \(data.skippedMissingLabel) with a missing label were skipped)")
        }
        var trainRows = Array(0..<data.count)
        var heldOut = [Int]()
        if validation == nil && config.training.validationFraction > 0 {
            (trainRows, heldOut) = try TrainingSet.holdOut(rows: data.count, config: config)
        }
        let task = config.model.task, separator = config.data.labelSeparator
        // Rows move out of `data` (held-out ones first), so each string has one owner.
        let validTexts = heldOut.map { TrainingSet.take(&data.texts[$0]) }, validLabels = heldOut.map { TrainingSet.take(&data.labels[$0]) }
        var trainTexts: [String], trainLabels: [String]
        if heldOut.isEmpty {
            trainTexts = data.texts
            trainLabels = data.labels
        } else {
            trainTexts = trainRows.map { TrainingSet.take(&data.texts[$0]) }
            trainLabels = trainRows.map { TrainingSet.take(&data.labels[$0]) }
        }
        data.texts = []
        data.labels = []
        // model.labels: the user's label set, in their order (training.privacy requires it).
        let labels = config.model.labels ?? counts?.labels ?? Targets.labels(of: trainLabels, task: task, separator: separator)
        let labelIDs = try TrainingSet.labelIDs(labels, config: config)
        let width = task == .regression ? 1 : labels.count
        var targets = try Targets(task: task, labels: trainLabels, labelIDs: labelIDs, width: width,
                                  separator: separator, what: "the training data", knownLabels: labels)
        scaling = try TrainingSet.standardize(&targets)
        self.targets = targets
        trainLabels = []

        // Tokenised twice (to count, then to encode) rather than keeping every text's
        // tokens: a million texts' [String] arrays would outweigh the encoded set. The
        // counting pass also measures each text's encoded length, so the encoded set
        // is allocated once, at its size.
        let threads = config.training.threads
        let hasher = NGramHasher(config: config.tokenizer)
        var lengths = [Int](repeating: 0, count: trainTexts.count)
        // Tokens per text, for CompactTexts (which Hogwild on the bag model trains from).
        let compacts = config.usesHogwild && config.model.type == .bag
        var tokenCounts = [Int32](repeating: 0, count: compacts ? trainTexts.count : 0)
        let built: Vocabulary
        if config.tokenizer.vocabulary == .data {
            built = lengths.withUnsafeMutableBufferPointer { buffer in
                tokenCounts.withUnsafeMutableBufferPointer { counted in
                    let (lengths, perText) = (buffer, counted)
                    return Vocabulary.build(texts: trainTexts, tokenizer: Tokenizer(config.tokenizer), threads: threads,
                                            minFreq: config.tokenizer.minFreq, maxSize: config.tokenizer.maxSize,
                                            each: { i, tokens in
                                                lengths[i] = FeatureEncoder.encodedLength(tokens, hasher: hasher)
                                                if !perText.isEmpty { perText[i] = Int32(truncatingIfNeeded: tokens.count) }
                                            })
                }
            }
        } else {
            // A vocabulary that does not come from these texts (PublicVocabulary).
            built = try PublicVocabulary.make(config: config)
            let tokenizer = Tokenizer(config.tokenizer)
            var tokens = TokenBuffer()
            for i in trainTexts.indices {
                tokenizer.tokenize(trainTexts[i], into: &tokens)
                lengths[i] = FeatureEncoder.encodedLength(tokens, hasher: hasher)
                if compacts { tokenCounts[i] = Int32(truncatingIfNeeded: tokens.count) }
            }
        }
        // Merged counts stand for the texts' own words; a public vocabulary stays as it is.
        vocabulary = (config.tokenizer.vocabulary == .data ? counts?.vocabulary(config.tokenizer) : nil) ?? built
        let configuredEncoder = FeatureEncoder(config: config.tokenizer, vocabulary: vocabulary)
        var examples: TrainingExamples
        if compacts && CompactTexts.supports(configuredEncoder) {
            examples = .compact(CompactTexts(consuming: &trainTexts, lengths: lengths, tokens: tokenCounts,
                                             encoder: configuredEncoder, threads: threads))
        } else {
            examples = .flat(configuredEncoder.encode(consuming: &trainTexts, lengths: lengths, threads: threads))
        }
        lengths = []
        tokenCounts = []
        self.tokenizer = try TrainingSet.fitBuckets(&examples, config: config, vocabulary: vocabulary, counts: counts)
        encoder = FeatureEncoder(config: self.tokenizer, vocabulary: vocabulary)
        self.examples = examples
        self.labels = labels

        skippedEmptyText = data.skippedEmptyText
        skippedMissingLabel = data.skippedMissingLabel
        (validExamples, validTargets, validationSkipped) = try TrainingSet.validation(
            validation, heldOut: (validTexts, validLabels), encoder: encoder, labels: labels, labelIDs: labelIDs,
            config: config)
    }

    /// Which of `rows` usable rows training.validation_fraction holds out: a seeded
    /// shuffle (the same seed holds out the same rows), both lists in row order.
    static func holdOut(rows: Int, config: Config) throws -> (train: [Int], heldOut: [Int]) {
        var trainRows = Array(0..<rows)
        var rng = SeededGenerator(seed: config.training.seed ^ 0x5EED_5A11)
        rng.shuffle(&trainRows)
        let n = Int((Double(rows) * config.training.validationFraction).rounded())
        let heldOut = Array(trainRows.prefix(n)).sorted()
        trainRows = Array(trainRows.dropFirst(n)).sorted()
        guard !trainRows.isEmpty else {
            throw TextModelError.data("training.validation_fraction \(config.training.validationFraction) leaves no training rows")
        }
        return (trainRows, heldOut)
    }

    /// Each label's output index, after checking there are enough labels for the task.
    static func labelIDs(_ labels: [String], config: Config) throws -> [String: Int32] {
        let task = config.model.task
        if task == .singleLabel && labels.count < 2 {
            throw TextModelError.data("the training data has only one class (\"\(echo(labels.first ?? ""))\"); a classifier needs at least two")
        }
        if task == .multiLabel && labels.isEmpty {
            throw TextModelError.data("the training data has no labels (data.label_separator is \"\(config.data.labelSeparator)\")")
        }
        var labelIDs = [String: Int32]()
        for (i, l) in labels.enumerated() { labelIDs[l] = Int32(i) }
        return labelIDs
    }

    /// Standardises regression targets (refusing ones that do not vary); the scaling used.
    static func standardize(_ targets: inout Targets) throws -> TargetScaling {
        guard targets.task == .regression else { return .identity }
        let scaling = TargetScaling(of: targets.values)
        if let first = targets.values.first, targets.values.allSatisfy({ $0 == first }) {
            throw TextModelError.data("every training target is \(first); a regression model needs targets that vary")
        }
        targets.standardize(scaling)
        return scaling
    }

    /// With tokenizer.fit_buckets, the hashed buckets cut to those the examples use
    /// (BucketSizing), the examples' ids folded to match; the tokenizer config they are in.
    static func fitBuckets(_ examples: inout TrainingExamples, config: Config, vocabulary: Vocabulary,
                           counts: CorpusCounts?) throws -> Config.Tokenizer {
        var tokenizer = config.tokenizer
        if tokenizer.fitBuckets && tokenizer.hashedFeatures > 0 {
            // TrainingSet(config:file:) spills no examples whose buckets are fitted (see
            // spillsFlatIDs); were some, they are read back to be counted and folded.
            if case .spilled(let texts) = examples { examples = .flat(try texts.readAll()) }
            let base = vocabulary.count, configured = tokenizer.buckets
            // Training across processes sizes the buckets from every process's rows (the
            // merged counts), so every process, and one machine, fit the same count.
            let used: Int
            if let merged = counts?.bucketsUsed(configured) {
                used = merged
            } else {
                switch examples {
                case .flat(let encoded):
                    used = encoded.withUnsafeStorage { ids, _ in BucketSizing.distinctBuckets(ids, base: base, buckets: configured) }
                case .compact(let texts):
                    used = texts.distinctBuckets(buckets: configured)
                case .spilled:
                    used = configured  // read back above: not reached
                }
            }
            let fitted = BucketSizing.fitted(configured: configured, used: used)
            if fitted < configured {
                tokenizer.buckets = fitted
                switch examples {
                case .flat(var encoded):
                    examples = .flat(EncodedTexts())  // one owner, so the fold is in place
                    encoded.withMutableIDs { BucketSizing.fold($0, base: base, into: fitted) }
                    examples = .flat(encoded)
                case .compact:
                    break  // refitted below, to the encoder of the fitted count
                case .spilled:
                    break  // read back above: not reached
                }
            }
        }
        if case .compact(var texts) = examples, tokenizer.buckets != config.tokenizer.buckets {
            examples = .flat(EncodedTexts())  // one owner, so the fold is in place
            try texts.refit(FeatureEncoder(config: tokenizer, vocabulary: vocabulary))
            examples = .compact(texts)
        }
        return tokenizer
    }

    /// The validation examples and targets: of the validation set if given (refused if
    /// it has no usable rows), else of the rows held out; and the validation rows skipped.
    static func validation(_ given: LabelledTexts?, heldOut: (texts: [String], labels: [String]), encoder: FeatureEncoder,
                           labels: [String], labelIDs: [String: Int32],
                           config: Config) throws -> (EncodedTexts, Targets, Int) {
        var (texts, rawLabels) = heldOut
        var skipped = 0
        if let v = given {
            guard v.count > 0 else {
                throw TextModelError.data("no usable validation rows (\(v.skippedEmptyText) with an empty text and \(v.skippedMissingLabel) with a missing label were skipped)")
            }
            texts = v.texts
            rawLabels = v.labels
            skipped = v.skipped
        }
        let task = config.model.task
        let targets = try Targets(task: task, labels: rawLabels, labelIDs: labelIDs, width: task == .regression ? 1 : labels.count,
                                  separator: config.data.labelSeparator, what: "the validation data", knownLabels: labels)
        return (encoder.encode(texts, threads: config.training.threads), targets, skipped)
    }

    /// The string at `s`, leaving an empty one behind (so the string has one owner).
    private static func take(_ s: inout String) -> String {
        defer { s = "" }
        return s
    }

    /// CRC-32 of everything training reads from the data: encoded examples, targets,
    /// labels and the validation examples (a checkpoint names the data it belongs to).
    func fingerprint() -> UInt32 {
        var crc: UInt32 = 0
        func add(_ values: [Int32]) {
            var n = Int32(truncatingIfNeeded: values.count)
            crc = withUnsafeBytes(of: &n) { CRC32.checksum($0, seed: crc) }
            crc = values.withUnsafeBytes { CRC32.checksum($0, seed: crc) }
        }
        crc = examples.checksum(seed: crc)
        crc = TrainingExamples.flat(validExamples).checksum(seed: crc)
        for t in [targets, validTargets] {
            add(t.classes)
            add(t.values.map { Int32(bitPattern: $0.bitPattern) })
        }
        add(labels.flatMap { Array($0.utf8).map(Int32.init) + [0] })
        return crc
    }

    /// Per-class loss weights from training.class_weights (1 for every class if none).
    func classWeights(_ setting: ClassWeights) throws -> [Float] {
        switch setting {
        case .none:
            return [Float](repeating: 1, count: labels.count)
        case .balanced:
            var counts = [Int](repeating: 0, count: labels.count)
            for t in targets.classes { counts[Int(t)] += 1 }
            return counts.map { Float(Double(targets.count) / Double(labels.count * max($0, 1))) }
        case .explicit(let weights):
            for name in weights.keys where !labels.contains(name) {
                throw TextModelError.config("training.class_weights names \"\(echo(name))\", which is not a label of the training data")
            }
            return labels.map { Float(weights[$0] ?? 1) }
        }
    }
}
