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

    /// One thread's working memory for encoding, reused from text to text.
    struct Scratch {
        var tokens = TokenBuffer()
        var ids = [Int32]()
        var characters = NGramHasher.Scratch()
    }

    /// Encodes `text` into `scratch.ids`: vocabulary ids of its tokens, then hashed word
    /// n-grams, then hashed character n-grams.
    func encode(_ text: String, scratch: inout Scratch) {
        tokenizer.tokenize(text, into: &scratch.tokens)
        scratch.ids.removeAll(keepingCapacity: true)
        vocabulary.encode(scratch.tokens, into: &scratch.ids)
        hasher.features(of: scratch.tokens, base: vocabulary.count, into: &scratch.ids)
        hasher.characterFeatures(of: scratch.tokens, base: vocabulary.count, into: &scratch.ids, scratch: &scratch.characters)
    }

    func encode(_ text: String) -> [Int32] {
        var scratch = Scratch()
        encode(text, scratch: &scratch)
        return scratch.ids
    }

    /// Encodes `texts` on up to `threads` threads (0 = every core). Each worker encodes a
    /// contiguous share into its own flat buffer; the shares are joined in order, so the
    /// result does not depend on the thread count.
    func encode(_ texts: [String], threads: Int) -> EncodedTexts {
        texts.withUnsafeBufferPointer { texts in
            encode(count: texts.count, threads: threads, text: { texts[$0] }, encoded: { _ in })
        }
    }

    /// `encode(_:threads:)` that empties `texts` as it goes, each text freed once
    /// encoded (when `texts` was its only owner), and leaves `texts` empty.
    func encode(consuming texts: inout [String], threads: Int) -> EncodedTexts {
        let result = texts.withUnsafeMutableBufferPointer { texts in
            encode(count: texts.count, threads: threads, text: { texts[$0] }, encoded: { texts[$0] = "" })
        }
        texts = []
        return result
    }

    /// Text i comes from `text(i)`; `encoded(i)` is called once it is encoded. Both are
    /// called from the worker threads, each i from one of them.
    private func encode(count: Int, threads: Int, text: (Int) -> String, encoded: (Int) -> Void) -> EncodedTexts {
        let workers = Parallel.workers(threads: threads, items: count, minimumEach: 64)
        var shares = [EncodedTexts](repeating: EncodedTexts(), count: workers)
        shares.withUnsafeMutableBufferPointer { out in
            Parallel.run(workers) { w in
                var share = EncodedTexts(), scratch = Scratch()
                for i in (w * count / workers)..<((w + 1) * count / workers) {
                    encode(text(i), scratch: &scratch)
                    encoded(i)
                    share.append(scratch.ids)
                }
                out[w] = share
            }
        }
        guard workers > 1 else { return shares[0] }
        var all = EncodedTexts()
        all.reserve(texts: count, ids: shares.reduce(0) { $0 + $1.totalLength })
        // Each share is freed as soon as it is copied, so the shares and the joined
        // buffer are never all resident at once.
        for w in shares.indices {
            all.append(contentsOf: shares[w])
            shares[w] = EncodedTexts()
        }
        return all
    }
}
