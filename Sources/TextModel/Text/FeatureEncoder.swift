/// Text → feature ids: tokenizer, vocabulary lookup, then (for the bag model) hashed
/// word and character n-grams after the vocabulary's ids. Training and prediction share this one path.
struct FeatureEncoder {
    let tokenizer: Tokenizer
    let vocabulary: Vocabulary
    let hasher: NGramHasher
    /// tokenizer.vocabulary "hashed": a word's id is its hash bucket (after the
    /// vocabulary's <pad> and <unk>), in the same buckets as the n-grams.
    let hashesWords: Bool
    /// The vocabulary words' character n-grams, hashed once (nil: none, or hashed per text).
    let subwords: SubwordTable?

    init(config: Config.Tokenizer, vocabulary: Vocabulary) {
        tokenizer = Tokenizer(config)
        self.vocabulary = vocabulary
        hasher = NGramHasher(config: config)
        hashesWords = config.hashesWords
        // A hashed vocabulary's word ids are buckets, not vocabulary ids: no table.
        subwords = config.hashesWords ? nil : SubwordTable(vocabulary: vocabulary, hasher: hasher)
    }

    /// The ids of the words themselves: vocabulary ids, or hash buckets.
    func appendWordIDs(_ tokens: TokenBuffer, into ids: inout [Int32]) {
        guard hashesWords, hasher.buckets > 0 else { vocabulary.encode(tokens, into: &ids); return }
        let base = vocabulary.count, bucket = hasher.bucket
        for h in tokens.hashes { ids.append(Int32(base + Int(bucket.remainder(h)))) }
    }

    /// Appends the character n-gram ids of every token; `scratch.ids` starts with the
    /// tokens' word ids (one per token, as appendWordIDs writes them).
    private func characterFeatures(scratch: inout Scratch) {
        // No loop over the tokens (a call each) when there are no character n-grams.
        guard hasher.makesCharacterFeatures else { return }
        guard let table = subwords else {
            hasher.characterFeatures(of: scratch.tokens, base: vocabulary.count, into: &scratch.ids, scratch: &scratch.characters)
            return
        }
        for t in 0..<scratch.tokens.count {
            table.characterFeatures(ofToken: t, word: scratch.ids[t], in: scratch.tokens, hasher: hasher, base: vocabulary.count,
                                    into: &scratch.ids, scratch: &scratch.characters)
        }
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
        appendWordIDs(scratch.tokens, into: &scratch.ids)
        hasher.features(of: scratch.tokens, base: vocabulary.count, into: &scratch.ids)
        characterFeatures(scratch: &scratch)
    }

    /// `encode(_:scratch:)` of a text given as UTF-8 bytes (see Tokenizer.tokenize(utf8:into:)).
    func encode(utf8 text: UnsafeBufferPointer<UInt8>, scratch: inout Scratch) {
        tokenizer.tokenize(utf8: text, into: &scratch.tokens)
        scratch.ids.removeAll(keepingCapacity: true)
        appendWordIDs(scratch.tokens, into: &scratch.ids)
        hasher.features(of: scratch.tokens, base: vocabulary.count, into: &scratch.ids)
        characterFeatures(scratch: &scratch)
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
        encode(.strings(texts), threads: threads)
    }

    /// `encode(_:threads:)` of strings or of UTF-8 texts read in place.
    func encode(_ texts: BatchTexts, threads: Int) -> EncodedTexts {
        switch texts {
        case .strings(let strings):
            return strings.withUnsafeBufferPointer { strings in
                encode(count: strings.count, threads: threads) { encode(strings[$0], scratch: &$1) }
            }
        case .utf8(let utf8):
            return encode(count: utf8.count, threads: threads) { encode(utf8: utf8[$0], scratch: &$1) }
        }
    }

    /// `encode(_:threads:)` on the calling thread into `out`, reusing its buffers and
    /// `scratch`: once they have grown to a batch's size, encoding it allocates nothing.
    func encode(_ texts: [String], into out: inout EncodedTexts, scratch: inout Scratch) {
        encode(.strings(texts), into: &out, scratch: &scratch)
    }

    func encode(_ texts: BatchTexts, into out: inout EncodedTexts, scratch: inout Scratch) {
        out.removeAll()
        switch texts {
        case .strings(let strings):
            for text in strings {
                encode(text, scratch: &scratch)
                out.append(scratch.ids)
            }
        case .utf8(let utf8):
            for i in 0..<utf8.count {
                encode(utf8: utf8[i], scratch: &scratch)
                out.append(scratch.ids)
            }
        }
    }

    /// How many ids `encode` gives for a text with these tokens, when `hasher` is
    /// NGramHasher(config:) of the encoder's config.
    static func encodedLength(_ tokens: TokenBuffer, hasher: NGramHasher) -> Int {
        tokens.count + hasher.featureCount(of: tokens)
    }

    /// `encode(_:threads:)` for a training set whose encoded lengths are known (counted
    /// with `encodedLength` while the vocabulary was counted): every thread writes its
    /// texts' ids straight into the one buffer, allocated once at its final size, so
    /// there are no growing shares to join. Empties `texts` as it goes, each text freed
    /// once encoded (when `texts` was its only owner), and returns the freed pages to
    /// the system every 65,536 texts, so the raw texts shrink as the encoded set grows.
    func encode(consuming texts: inout [String], lengths: [Int], threads: Int) -> EncodedTexts {
        let count = texts.count
        let workers = Parallel.workers(threads: threads, items: count, minimumEach: 64)
        let result = texts.withUnsafeMutableBufferPointer { texts in
            EncodedTexts(lengths: lengths) { ids, offsets in
                Parallel.run(workers) { w in
                    var scratch = Scratch()
                    for i in (w * count / workers)..<((w + 1) * count / workers) {
                        encode(texts[i], scratch: &scratch)
                        texts[i] = ""
                        // encodedLength counts what encode writes, so the two agree;
                        // min() only keeps a disagreement from writing out of bounds.
                        let n = min(scratch.ids.count, offsets[i + 1] - offsets[i])
                        for k in 0..<n { ids[offsets[i] + k] = scratch.ids[k] }
                        for k in n..<(offsets[i + 1] - offsets[i]) { ids[offsets[i] + k] = Vocabulary.paddingID }
                        if w == 0 && i % 65_536 == 65_535 { Memory.returnFreePages() }
                    }
                }
            }
        }
        texts = []
        return result
    }

    /// `encodeText(i, &scratch)` encodes text i into `scratch.ids`, on the worker threads.
    private func encode(count: Int, threads: Int, encodeText: (Int, inout Scratch) -> Void) -> EncodedTexts {
        let workers = Parallel.workers(threads: threads, items: count, minimumEach: 64)
        var shares = [EncodedTexts](repeating: EncodedTexts(), count: workers)
        shares.withUnsafeMutableBufferPointer { out in
            Parallel.run(workers) { w in
                var share = EncodedTexts(), scratch = Scratch()
                for i in (w * count / workers)..<((w + 1) * count / workers) {
                    encodeText(i, &scratch)
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
