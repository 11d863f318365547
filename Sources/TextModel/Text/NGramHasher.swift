/// Hashed word n-grams (fastText's trick for bigrams and up without a vocabulary of
/// them): each n-gram of consecutive tokens, n = 2 … order, maps to one of `buckets`
/// feature ids after the vocabulary's, by FNV-1a over its tokens' bytes. Distinct
/// n-grams may share a bucket; that costs a little accuracy, not memory.
struct NGramHasher {
    let order: Int
    let buckets: Int

    /// Feature ids of the n-grams of `tokens`, each offset by `base` (the vocabulary size).
    func features(of tokens: [String], base: Int) -> [Int32] {
        guard order >= 2, buckets > 0, tokens.count >= 2 else { return [] }
        var out = [Int32]()
        out.reserveCapacity(tokens.count * (order - 1))
        let tokenHashes = tokens.map { NGramHasher.fnv1a($0.utf8) }
        for start in 0..<(tokens.count - 1) {
            var h = tokenHashes[start]
            for n in 2...order {
                let end = start + n - 1
                guard end < tokens.count else { break }
                // Combine token hashes with a separator so ("ab","c") ≠ ("a","bc").
                h = (h ^ 0x20) &* 0x100_0000_01B3
                h = (h ^ tokenHashes[end]) &* 0x100_0000_01B3
                out.append(Int32(base + Int(h % UInt64(buckets))))
            }
        }
        return out
    }

    static func fnv1a<S: Sequence>(_ bytes: S) -> UInt64 where S.Element == UInt8 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return h
    }
}
