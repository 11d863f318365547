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
    /// The tokens by bytes (entry i is token i), for lookups from a TokenBuffer.
    private var table = TokenTable()
    /// Whether every token is ASCII: then a token the table lacks is unknown without
    /// asking `ids` (see id(of:hash:)).
    private var allASCII = true
    /// Whether every token is in Unicode normal form C: then a token the table lacks
    /// that is NFC too is unknown without asking `ids` (see id(of:hash:)).
    private var allNFC = true

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
        indexBytes()
    }

    /// Builds a vocabulary from raw training texts, tokenising them on up to `threads`
    /// threads (0 = every core) without keeping the tokens: each thread counts its
    /// share by bytes (TokenTable), the counts are merged as `String`s, which joins
    /// canonically equivalent spellings as `build(from:)` does. The same texts give the
    /// same vocabulary as `build(from:)` on their tokens, for any thread count.
    ///
    /// `each(i, tokens)`, if given, sees text i's tokens, on the counting thread.
    static func build(texts: [String], tokenizer: Tokenizer, threads: Int, minFreq: Int, maxSize: Int,
                      each: ((Int, TokenBuffer) -> Void)? = nil) -> Vocabulary {
        var counter = Counter(tokenizer: tokenizer, threads: threads)
        counter.add(texts, each: each)
        return counter.vocabulary(minFreq: minFreq, maxSize: maxSize)
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
    static func build(counts: [String: Int], minFreq: Int, maxSize: Int) -> Vocabulary {
        let kept = counts.filter { $0.value >= minFreq && $0.key != paddingToken && $0.key != unknownToken }
            .sorted { a, b in a.value != b.value ? a.value > b.value : a.key.utf8.lexicographicallyPrecedes(b.key.utf8) }
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
        indexBytes()
    }

    private mutating func indexBytes() {
        table = TokenTable(minimumCapacity: tokens.count)
        for t in tokens {
            table.insert(t)
            allASCII = allASCII && t.utf8.allSatisfy { $0 < 0x80 }
            var bytes = t
            allNFC = allNFC && bytes.withUTF8 { Vocabulary.isNFC($0, quickCheck: false) }
        }
    }

    public func id(of token: String) -> Int32 { ids[token] ?? Vocabulary.unknownID }

    public func encode(_ tokens: [String]) -> [Int32] { tokens.map { id(of: $0) } }

    /// The id of a token given as UTF-8 bytes with its FNV-1a hash. Bytes equal to a
    /// token's are that token. Otherwise the `String` lookup decides, since `String`
    /// equality is canonical equivalence (a decomposed "é" is the precomposed one).
    /// Two canonically equivalent spellings have one NFC form, so when every token and
    /// the asked one are in NFC (ASCII always is), other bytes cannot match and the
    /// lookup makes no `String`: that would allocate for tokens over 15 bytes, on every
    /// call that meets, say, a long unknown Cyrillic word.
    func id(of token: UnsafeBufferPointer<UInt8>, hash: UInt64) -> Int32 {
        table.withLookup { id(of: token, hash: hash, in: $0) }
    }

    @inline(__always)
    private func id(of token: UnsafeBufferPointer<UInt8>, hash: UInt64, in lookup: TokenTable.Lookup) -> Int32 {
        if let i = lookup.index(of: token, hash: hash) { return Int32(truncatingIfNeeded: i) }
        if allASCII && Tokenizer.isASCII(token) { return Vocabulary.unknownID }
        if allNFC && Vocabulary.isNFC(token, quickCheck: true) { return Vocabulary.unknownID }
        return ids[String(decoding: token, as: UTF8.self)] ?? Vocabulary.unknownID
    }

    /// Whether `bytes` are valid UTF-8 in normal form C. The quick check answers from
    /// each scalar's properties without allocating and says false when unsure (a
    /// combining mark that might compose); the full one normalizes to decide.
    private static func isNFC(_ bytes: UnsafeBufferPointer<UInt8>, quickCheck: Bool) -> Bool {
        guard var text = try? UTF8Span(validating: bytes.span) else { return false }
        return text.checkForNFC(quickCheck: quickCheck)
    }

    /// The ids of a buffer's tokens, appended to `out`: the table's and the buffer's
    /// storage opened once for all tokens. The table is larger than the CPU's nearer
    /// caches, and each lookup's loads depend on one another (slot, then entry, then
    /// bytes): two passes of prefetches first start every token's slot, then every
    /// entry, loading at once instead of one token after another.
    func encode(_ tokens: TokenBuffer, into out: inout [Int32]) {
        table.withLookup { lookup in
            tokens.withStorage { bytes, ends, hashes in
                for h in hashes { lookup.prefetchHome(h) }
                for h in hashes { lookup.prefetchEntry(h) }
                var start = 0
                for t in 0..<ends.count {
                    let token = UnsafeBufferPointer(rebasing: bytes[start..<ends[t]])
                    out.append(id(of: token, hash: hashes[t], in: lookup))
                    start = ends[t]
                }
            }
        }
    }
}
