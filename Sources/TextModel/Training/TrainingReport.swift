/// A summary of one training run, returned to the caller as JSON.
public struct TrainingReport {
    public struct Epoch {
        public var epoch: Int
        public var trainLoss: Double
        public var validLoss: Double?
        public var validAccuracy: Double?
        public var validMacroF1: Double? = nil
        public var seconds: Double
        /// Share of the epoch's training examples whose forward pass during the epoch
        /// predicted the target (argmax; multi-label: the exact label set at
        /// model.threshold), as PyTorch training loops count it: under dropout and
        /// augmentation, with the weights of the moment. nil for regression.
        public var trainAccuracy: Double? = nil
        /// training.privacy: ε spent by the end of this epoch (the key is absent otherwise).
        public var epsilon: Double? = nil
    }

    public var epochs: [Epoch] = []
    public var trainExamples = 0
    public var trainTokens = 0
    public var skippedEmptyText = 0
    public var skippedMissingLabel = 0
    public var validExamples = 0
    public var validSkipped = 0
    public var vocabularySize = 0
    public var labels: [String] = []
    public var threads = 1
    public var seconds = 0.0
    public var cancelled = false
    /// Cancelled while the training file was read, before the first step: nothing was
    /// trained and the model was left as it was before the call.
    public var cancelledWhileReading = false
    /// With early stopping: the epoch whose weights the model kept, and whether training
    /// ended before the configured number of epochs.
    public var bestEpoch: Int? = nil
    public var stoppedEarly = false
    /// With model.pretrained_vectors: vocabulary words the vectors file had.
    public var pretrainedFound: Int? = nil
    /// With training.resume: the last epoch of the checkpoint this run continued.
    public var resumedFromEpoch: Int? = nil
    /// training.privacy: what the run spent (the key is absent otherwise).
    public var privacy: PrivacyRecord? = nil

    public var json: JSONValue {
        func number(_ d: Double?) -> JSONValue { d.map { .double($0) } ?? .null }
        var members: [(String, JSONValue)] = [
            ("epochs", .array(epochs.map { e in
                .object([
                    ("epoch", .int(Int64(e.epoch))),
                    ("train_loss", .double(e.trainLoss)),
                    ("train_accuracy", number(e.trainAccuracy)),
                    ("valid_loss", number(e.validLoss)),
                    ("valid_accuracy", number(e.validAccuracy)),
                    ("valid_macro_f1", number(e.validMacroF1)),
                    ("seconds", .double(e.seconds)),
                ] + (e.epsilon.map { [("epsilon", JSONValue.double($0))] } ?? []))
            })),
            ("train_examples", .int(Int64(trainExamples))),
            ("train_tokens", .int(Int64(trainTokens))),
            ("skipped_empty_text", .int(Int64(skippedEmptyText))),
            ("skipped_missing_label", .int(Int64(skippedMissingLabel))),
            ("valid_examples", .int(Int64(validExamples))),
            ("valid_skipped", .int(Int64(validSkipped))),
            ("vocabulary_size", .int(Int64(vocabularySize))),
            ("labels", .array(labels.map { .string($0) })),
            ("threads", .int(Int64(threads))),
            ("seconds", .double(seconds)),
            ("cancelled", .bool(cancelled)),
            ("cancelled_while_reading", .bool(cancelledWhileReading)),
            ("best_epoch", bestEpoch.map { .int(Int64($0)) } ?? .null),
            ("stopped_early", .bool(stoppedEarly)),
            ("pretrained_found", pretrainedFound.map { .int(Int64($0)) } ?? .null),
            ("resumed_from_epoch", resumedFromEpoch.map { .int(Int64($0)) } ?? .null),
        ]
        if let p = privacy { members.append(("privacy", p.json)) }
        return .object(members)
    }
}
