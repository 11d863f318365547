/// Hashed n-gram features (fastText's trick for features without a vocabulary of them):
///  - word n-grams: each run of n consecutive tokens, n = 2 … order;
///  - character n-grams (subwords): each run of n characters, n = charMin … charMax, of
///    every token wrapped as "<token>", so unseen words still get features.
/// Each maps to one of `buckets` feature ids after the vocabulary's, by FNV-1a. Distinct
/// n-grams may share a bucket; that costs a little accuracy, not memory.
struct NGramHasher {
    let order: Int
    let buckets: Int
    var charMin = 0
    var charMax = 0

    /// Feature ids of the character n-grams of every token, offset by `base`.
    func characterFeatures(of tokens: [String], base: Int) -> [Int32] {
        guard charMax > 0, charMin >= 1, buckets > 0 else { return [] }
        var out = [Int32]()
        for token in tokens {
            let scalars = ["<"] + Array(token.unicodeScalars).map { String($0) } + [">"]
            for start in 0..<scalars.count {
                var h: UInt64 = 0xCBF2_9CE4_8422_2325
                for n in 1...charMax {
                    let end = start + n
                    guard end <= scalars.count else { break }
                    for b in scalars[end - 1].utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
                    // Lone boundary markers carry nothing.
                    if n >= charMin && !(n == 1 && (start == 0 || end == scalars.count)) {
                        out.append(Int32(base + Int(h % UInt64(buckets))))
                    }
                }
            }
        }
        return out
    }

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
