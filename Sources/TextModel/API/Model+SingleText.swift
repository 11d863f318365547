/// Single-text prediction, for services that answer one request at a time: the same
/// label and probability as predicting the text alone through `predictTopK` with k = 1,
/// without the batch machinery (SingleTextPrediction).
extension Model {
    /// The index (in `labels` order) of the most probable label of one text and its
    /// probability; for a multi-label model, the label with the highest own probability.
    /// `text` holds the text's UTF-8 bytes (no terminating NUL needed; invalid
    /// sequences read as U+FFFD, as everywhere else). Runs on the calling thread; any
    /// number of threads may call it at once.
    public func predictOne(utf8 text: UnsafeBufferPointer<UInt8>) throws -> (label: Int, probability: Float) {
        try classifier("predicting a label").topLabel(utf8: text)
    }

    /// `predictOne(utf8:)` of a String.
    public func predictOne(_ text: String) throws -> (label: Int, probability: Float) {
        var text = text
        return try text.withUTF8 { try predictOne(utf8: $0) }
    }
}
