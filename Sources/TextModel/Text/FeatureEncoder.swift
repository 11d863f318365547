/// Text → feature ids: tokenizer, vocabulary lookup, then (for the bag model) hashed
/// word and character n-grams after the vocabulary's ids. Training and prediction share this one path.
struct FeatureEncoder {
    let tokenizer: Tokenizer
    let vocabulary: Vocabulary
    let hasher: NGramHasher

    init(config: Config.Tokenizer, vocabulary: Vocabulary) {
        tokenizer = Tokenizer(config)
        self.vocabulary = vocabulary
        hasher = NGramHasher(order: config.wordNgrams, buckets: config.hashedFeatures,
                             charMin: config.charNgramsMin, charMax: config.charNgramsMax)
    }

    func encode(tokens: [String]) -> [Int32] {
        vocabulary.encode(tokens) + hasher.features(of: tokens, base: vocabulary.count)
            + hasher.characterFeatures(of: tokens, base: vocabulary.count)
    }

    func encode(_ text: String) -> [Int32] { encode(tokens: tokenizer.tokenize(text)) }
}
