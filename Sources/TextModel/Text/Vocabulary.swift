/// Token strings and their ids. Id 0 is padding, id 1 stands for every unknown token;
/// the rest are training tokens seen at least `minFreq` times, most frequent first
/// (ties broken by the token's bytes, so the same data always gives the same ids).
public struct Vocabulary {
    public static let paddingToken = "<pad>"
    public static let unknownToken = "<unk>"
    public static let paddingID: Int32 = 0
    public static let unknownID: Int32 = 1

    public private(set) var tokens: [String]
    private var ids: [String: Int32]

    public var count: Int { tokens.count }

    /// Restores a vocabulary from its token list (as saved in a model file).
    public init(tokens: [String]) throws {
        guard tokens.count >= 2, tokens[0] == Vocabulary.paddingToken, tokens[1] == Vocabulary.unknownToken else {
            throw TextModelError.modelFormat("the vocabulary must start with \(Vocabulary.paddingToken) and \(Vocabulary.unknownToken)")
        }
        self.tokens = tokens
        ids = [:]
        ids.reserveCapacity(tokens.count)
        for (i, t) in tokens.enumerated() {
            if ids.updateValue(Int32(i), forKey: t) != nil {
                throw TextModelError.modelFormat("the vocabulary lists \"\(t)\" twice")
            }
        }
    }

    /// Builds a vocabulary from raw training texts, tokenising them on up to `threads`
    /// threads (0 = every core) without keeping the tokens: each thread counts its
    /// share, the counts are merged. The same texts give the same vocabulary as
    /// `build(from:)` on their tokens, for any thread count.
    static func build(texts: [String], tokenizer: Tokenizer, threads: Int, minFreq: Int, maxSize: Int) -> Vocabulary {
        let workers = Parallel.workers(threads: threads, items: texts.count, minimumEach: 256)
        var shares = [[String: Int]](repeating: [:], count: workers)
        shares.withUnsafeMutableBufferPointer { out in
            Parallel.run(workers) { w in
                var counts = [String: Int]()
                for i in (w * texts.count / workers)..<((w + 1) * texts.count / workers) {
                    for token in tokenizer.tokenize(texts[i]) { counts[token, default: 0] += 1 }
                }
                out[w] = counts
            }
        }
        var counts = shares[0]
        for share in shares.dropFirst() {
            counts.merge(share, uniquingKeysWith: +)
        }
        return build(counts: counts, minFreq: minFreq, maxSize: maxSize)
    }

    /// Builds a vocabulary from tokenized training texts.
    public static func build(from texts: [[String]], minFreq: Int, maxSize: Int) -> Vocabulary {
        var counts = [String: Int]()
        for text in texts {
            for token in text { counts[token, default: 0] += 1 }
        }
        return build(counts: counts, minFreq: minFreq, maxSize: maxSize)
    }

    /// The `maxSize` − 2 most frequent tokens seen at least `minFreq` times, after the
    /// two special tokens.
    private static func build(counts: [String: Int], minFreq: Int, maxSize: Int) -> Vocabulary {
        let kept = counts.filter { $0.value >= minFreq && $0.key != paddingToken && $0.key != unknownToken }
            .sorted { a, b in a.value != b.value ? a.value > b.value : Array(a.key.utf8).lexicographicallyPrecedes(b.key.utf8) }
            .prefix(max(0, maxSize - 2))
            .map { $0.key }
        return Vocabulary(uniqueTokens: [paddingToken, unknownToken] + kept)
    }

    /// For token lists already known to be valid: distinct, specials first.
    private init(uniqueTokens: [String]) {
        tokens = uniqueTokens
        ids = [:]
        ids.reserveCapacity(uniqueTokens.count)
        for (i, t) in uniqueTokens.enumerated() { ids[t] = Int32(i) }
    }

    public func id(of token: String) -> Int32 { ids[token] ?? Vocabulary.unknownID }

    public func encode(_ tokens: [String]) -> [Int32] { tokens.map { id(of: $0) } }
}
