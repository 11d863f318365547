/// One text encoded as `FeatureEncoder.encode` encodes it, with where everything came
/// from: its tokens with their byte spans in the original text, and for every feature
/// id the tokens it was made of. Attributions are computed per feature id and reported
/// per token through `sources`.
///
///   ids      [words | hashed word n-grams | hashed character n-grams]   (encode's order)
///   sources  [t..<t+1 | start..<start+n | t..<t+1]                       token ranges
struct TracedEncoding {
    let tokens: [SpannedToken]
    let ids: [Int32]
    let sources: [Range<Int>]

    /// Ids 0..<words are the tokens' own vocabulary ids, one per token, in order.
    var words: Int { tokens.count }
}

extension FeatureEncoder {
    /// The traced encoding of the UTF-8 bytes `utf8` (valid or not: invalid sequences
    /// read as U+FFFD, as a C string's do). Its ids equal `encode` of the repaired text.
    func traced<C: Collection>(utf8: C) -> TracedEncoding where C.Element == UInt8 {
        let tokens = tokenizer.tokenizeWithSpans(utf8: utf8)
        let buffer = TokenBuffer(tokens.map { $0.text })
        var ids = [Int32](), scratch = NGramHasher.Scratch()
        appendWordIDs(buffer, into: &ids)
        hasher.features(of: buffer, base: vocabulary.count, into: &ids)
        hasher.characterFeatures(of: buffer, base: vocabulary.count, into: &ids, scratch: &scratch)
        var sources = (0..<tokens.count).map { $0..<($0 + 1) }
        hasher.featureSources(of: buffer, into: &sources)
        return TracedEncoding(tokens: tokens, ids: ids, sources: sources)
    }
}

extension NGramHasher {
    /// The token range of every id `features` and then `characterFeatures` append for
    /// `tokens`, in the same order: a word n-gram's n tokens, a character n-gram's one
    /// token. The loops mirror those two functions' (TokenSpanTests checks the counts).
    func featureSources(of tokens: TokenBuffer, into out: inout [Range<Int>]) {
        if order >= 2, buckets > 0, tokens.count >= 2 {
            for start in 0..<(tokens.count - 1) {
                for n in 2...order {
                    guard start + n - 1 < tokens.count else { break }
                    out.append(start..<(start + n))
                }
            }
        }
        guard charMax > 0, charMin >= 1, buckets > 0 else { return }
        for t in 0..<tokens.count {
            var characters = 2  // "<" and ">"
            for k in tokens.start(t)..<tokens.ends[t] where tokens.bytes[k] & 0xC0 != 0x80 { characters += 1 }
            for start in 0..<characters {
                for n in 1...charMax {
                    let end = start + n
                    guard end <= characters else { break }
                    if n >= charMin && !(n == 1 && (start == 0 || end == characters)) { out.append(t..<(t + 1)) }
                }
            }
        }
    }
}
