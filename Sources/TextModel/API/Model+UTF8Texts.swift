/// Batch prediction of texts given as UTF-8 C strings (UTF8Texts), read in place: the
/// C ABI's batch calls. Each gives exactly what its [String] namesake gives for the
/// same texts as `String(cString:)` reads them, with no String per text.
extension Model {
    /// `predictProbabilities(_:into:)` of UTF-8 texts.
    public func predictProbabilities(_ texts: UTF8Texts, into out: UnsafeMutablePointer<Float>) throws {
        try predictProbabilities(.utf8(texts), into: out)
    }

    /// `predictValues(_:into:)` of UTF-8 texts.
    public func predictValues(_ texts: UTF8Texts, into out: UnsafeMutablePointer<Float>) throws {
        try predictValues(.utf8(texts), into: out)
    }

    /// `predictTopK(_:k:labels:probabilities:)` of UTF-8 texts.
    public func predictTopK(_ texts: UTF8Texts, k: Int, labels out: UnsafeMutablePointer<Int32>,
                            probabilities outProbs: UnsafeMutablePointer<Float>?) throws {
        try predictTopK(.utf8(texts), k: k, labels: out, probabilities: outProbs)
    }

    /// `sentenceVectors(_:into:)` of UTF-8 texts.
    public func sentenceVectors(_ texts: UTF8Texts, into out: UnsafeMutablePointer<Float>) throws {
        try sentenceVectors(.utf8(texts), into: out)
    }
}
