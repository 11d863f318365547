/// Every vocabulary word's character n-gram ids, hashed once when the encoder is made
/// (fastText keeps its words' subwords in its dictionary the same way), so encoding a
/// text looks a known word's subwords up instead of hashing them again: the ids of
/// NGramHasher.characterFeatures for that word, in the same order.
///
/// Used only for a token whose bytes are exactly the vocabulary entry's: an ASCII token
/// the vocabulary knows. A non-ASCII token may match its entry by canonical
/// equivalence (a decomposed "é") with other bytes, and so other n-grams; it and every
/// unknown token are hashed as before.
struct SubwordTable {
    /// Vocabularies above this many words hash on the fly (the table would hold about
    /// a dozen ids per word).
    static let maxWords = 1_000_000

    private let ids: [Int32]
    /// Word v's ids are ids[offsets[v]..<offsets[v + 1]].
    private let offsets: [Int]

    /// The table of `vocabulary` for `hasher`, or nil when the hasher makes no
    /// character n-grams or the vocabulary is too large.
    init?(vocabulary: Vocabulary, hasher: NGramHasher) {
        guard hasher.charMax > 0, hasher.charMin >= 1, hasher.buckets > 0,
              vocabulary.count <= SubwordTable.maxWords else { return nil }
        var ids = [Int32](), offsets = [Int](), scratch = NGramHasher.Scratch(), one = TokenBuffer()
        offsets.reserveCapacity(vocabulary.count + 1)
        offsets.append(0)
        for (v, token) in vocabulary.tokens.enumerated() {
            if v > Int(Vocabulary.unknownID) {
                one.removeAll()
                one.append(token: token.utf8)
                hasher.characterFeatures(ofToken: 0, in: one, base: vocabulary.count, into: &ids, scratch: &scratch)
            }
            offsets.append(ids.count)
        }
        self.ids = ids
        self.offsets = offsets
    }

    /// Words the table holds (every vocabulary word but `<pad>` and `<unk>`, whose rows are empty).
    var words: Int32 { Int32(truncatingIfNeeded: offsets.count - 1) }

    /// Whether word `v`'s ids are in the table (the first condition of
    /// `characterFeatures(ofToken:...)`; the token must also be ASCII).
    func holds(word v: Int32) -> Bool { v > Vocabulary.unknownID && Int(v) + 1 < offsets.count }

    /// Calls `body` with the flat ids and the offsets (word v's ids are
    /// ids[offsets[v]..<offsets[v + 1]]), for loops that must not touch reference counts.
    func withUnsafeStorage<R>(_ body: (UnsafeBufferPointer<Int32>, UnsafeBufferPointer<Int>) throws -> R) rethrows -> R {
        try ids.withUnsafeBufferPointer { ids in try offsets.withUnsafeBufferPointer { offsets in try body(ids, offsets) } }
    }

    /// Appends the character n-gram ids of token `t` of `tokens`, whose vocabulary id is
    /// `word`: from the table when the token is ASCII and known, else hashed.
    func characterFeatures(ofToken t: Int, word: Int32, in tokens: TokenBuffer, hasher: NGramHasher, base: Int,
                           into out: inout [Int32], scratch: inout NGramHasher.Scratch) {
        let v = Int(word)
        if holds(word: word) && tokens.withToken(t, { Tokenizer.isASCII($0) }) {
            out.append(contentsOf: ids[offsets[v]..<offsets[v + 1]])
        } else {
            hasher.characterFeatures(ofToken: t, in: tokens, base: base, into: &out, scratch: &scratch)
        }
    }
}
