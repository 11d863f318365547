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

    /// Encodes `texts` on up to `threads` threads (0 = every core). Each worker encodes a
    /// contiguous share into its own flat buffer; the shares are joined in order, so the
    /// result does not depend on the thread count.
    func encode(_ texts: [String], threads: Int) -> EncodedTexts {
        let workers = Parallel.workers(threads: threads, items: texts.count, minimumEach: 64)
        var shares = [EncodedTexts](repeating: EncodedTexts(), count: workers)
        shares.withUnsafeMutableBufferPointer { out in
            Parallel.run(workers) { w in
                var share = EncodedTexts()
                for i in (w * texts.count / workers)..<((w + 1) * texts.count / workers) { share.append(encode(texts[i])) }
                out[w] = share
            }
        }
        guard workers > 1 else { return shares[0] }
        var all = EncodedTexts()
        all.reserve(texts: texts.count, ids: shares.reduce(0) { $0 + $1.totalLength })
        // Each share is freed as soon as it is copied, so the shares and the joined
        // buffer are never all resident at once.
        for w in shares.indices {
            all.append(contentsOf: shares[w])
            shares[w] = EncodedTexts()
        }
        return all
    }
}
