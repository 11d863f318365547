/// Training data ready for the trainer: labels, vocabulary, encoded examples with their
/// targets, and the validation examples (given, or split off the training data when
/// training.validation_fraction asks for it).
struct TrainingSet {
    let labels: [String]
    let vocabulary: Vocabulary
    let encoder: FeatureEncoder
    /// Encoded training texts, flat (one buffer for the whole set, see EncodedTexts).
    let examples: EncodedTexts
    let targets: [Int32]
    let validExamples: EncodedTexts
    let validTargets: [Int32]
    let validationSkipped: Int

    init(config: Config, data: LabelledTexts, validation: LabelledTexts?) throws {
        guard data.count > 0 else {
            throw TextModelError.data("no usable training rows (\(data.skippedEmptyText) with an empty text and \(data.skippedMissingLabel) with a missing label were skipped)")
        }
        var trainRows = Array(0..<data.count)
        var heldOut = [Int]()
        if validation == nil && config.training.validationFraction > 0 {
            // A seeded shuffle, so the same seed holds out the same rows.
            var rng = SeededGenerator(seed: config.training.seed ^ 0x5EED_5A11)
            rng.shuffle(&trainRows)
            let n = Int((Double(data.count) * config.training.validationFraction).rounded())
            heldOut = Array(trainRows.prefix(n)).sorted()
            trainRows = Array(trainRows.dropFirst(n)).sorted()
            guard !trainRows.isEmpty else {
                throw TextModelError.data("training.validation_fraction \(config.training.validationFraction) leaves no training rows")
            }
        }
        let labels = Set(trainRows.map { data.labels[$0] }).sorted { Array($0.utf8).lexicographicallyPrecedes($1.utf8) }
        guard labels.count >= 2 else {
            throw TextModelError.data("the training data has only one class (\"\(labels.first ?? "")\"); a classifier needs at least two")
        }
        var labelIDs = [String: Int32]()
        for (i, l) in labels.enumerated() { labelIDs[l] = Int32(i) }

        // Tokenised twice (to count, then to encode) rather than keeping every text's
        // tokens: a million texts' [String] arrays would outweigh the encoded set.
        let threads = config.training.threads
        let trainTexts = trainRows.map { data.texts[$0] }
        vocabulary = Vocabulary.build(texts: trainTexts, tokenizer: Tokenizer(config.tokenizer), threads: threads,
                                      minFreq: config.tokenizer.minFreq, maxSize: config.tokenizer.maxSize)
        encoder = FeatureEncoder(config: config.tokenizer, vocabulary: vocabulary)
        var encoded = encoder.encode(trainTexts, threads: threads)
        encoded.shrinkToFit()
        examples = encoded
        targets = trainRows.map { labelIDs[data.labels[$0]] ?? 0 }
        self.labels = labels

        var validTexts = heldOut.map { data.texts[$0] }, validLabels = heldOut.map { data.labels[$0] }
        var skipped = 0
        if let v = validation {
            guard v.count > 0 else {
                throw TextModelError.data("no usable validation rows (\(v.skippedEmptyText) with an empty text and \(v.skippedMissingLabel) with a missing label were skipped)")
            }
            validTexts = v.texts
            validLabels = v.labels
            skipped = v.skipped
        }
        var vx = EncodedTexts(), vy = [Int32]()
        for (text, label) in zip(validTexts, validLabels) {
            guard let id = labelIDs[label] else {
                throw TextModelError.data("the validation data has the label \"\(label)\", which the training data does not have")
            }
            vx.append(encoder.encode(text))
            vy.append(id)
        }
        validExamples = vx
        validTargets = vy
        validationSkipped = skipped
    }

    /// Per-class loss weights from training.class_weights (1 for every class if none).
    func classWeights(_ setting: ClassWeights) throws -> [Float] {
        switch setting {
        case .none:
            return [Float](repeating: 1, count: labels.count)
        case .balanced:
            var counts = [Int](repeating: 0, count: labels.count)
            for t in targets { counts[Int(t)] += 1 }
            return counts.map { Float(Double(targets.count) / Double(labels.count * max($0, 1))) }
        case .explicit(let weights):
            for name in weights.keys where !labels.contains(name) {
                throw TextModelError.config("training.class_weights names \"\(name)\", which is not a label of the training data")
            }
            return labels.map { Float(weights[$0] ?? 1) }
        }
    }
}
