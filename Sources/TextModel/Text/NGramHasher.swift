/// Hashed n-gram features (fastText's trick for features without a vocabulary of them):
///  - word n-grams: each run of n consecutive tokens, n = 2 … order;
///  - character n-grams (subwords): each run of n characters, n = charMin … charMax, of
///    every token wrapped as "<token>", so unseen words still get features.
/// Each maps to one of `buckets` feature ids after the vocabulary's, by FNV-1a. Distinct
/// n-grams may share a bucket; that costs a little accuracy, not memory.
///
/// The work is done on a TokenBuffer (token bytes and hashes); the `[String]` forms
/// wrap it for tests and small inputs.
struct NGramHasher {
    let order: Int
    let buckets: Int
    var charMin = 0
    var charMax = 0
    /// `h % buckets` without a division (BucketDivisor), for every id made here.
    let bucket: BucketDivisor

    /// The hasher a tokenizer config asks for.
    init(config: Config.Tokenizer) {
        self.init(order: config.wordNgrams, buckets: config.hashedFeatures,
                  charMin: config.charNgramsMin, charMax: config.charNgramsMax)
    }

    init(order: Int, buckets: Int, charMin: Int = 0, charMax: Int = 0) {
        self.order = order
        self.buckets = buckets
        bucket = BucketDivisor(buckets)
        self.charMin = charMin
        self.charMax = charMax
    }

    static let fnvOffset: UInt64 = 0xCBF2_9CE4_8422_2325
    static let fnvPrime: UInt64 = 0x100_0000_01B3

    /// Per-thread scratch of `characterFeatures`: a token wrapped in "<" ">" and where
    /// its characters (Unicode scalars) start.
    struct Scratch {
        var wrapped: [UInt8] = []
        var starts: [Int] = []
    }

    /// Feature ids of the n-grams of the tokens, each offset by `base` (the vocabulary
    /// size), appended to `out`.
    func features(of tokens: TokenBuffer, base: Int, into out: inout [Int32]) {
        tokens.hashes.withUnsafeBufferPointer { hashes in
            forEachFeature(ofHashes: hashes, base: base) { out.append($0) }
        }
    }

    /// Calls `emit` with the word n-gram ids of tokens whose FNV-1a hashes are `hashes`,
    /// in `features(of:base:into:)`'s order (CompactTexts expands stored texts with it).
    @inline(__always)
    func forEachFeature(ofHashes hashes: UnsafeBufferPointer<UInt64>, base: Int, _ emit: (Int32) -> Void) {
        guard order >= 2, buckets > 0, hashes.count >= 2 else { return }
        for start in 0..<(hashes.count - 1) {
            var h = hashes[start]
            for n in 2...order {
                let end = start + n - 1
                guard end < hashes.count else { break }
                // Combine token hashes with a separator so ("ab","c") ≠ ("a","bc").
                h = (h ^ 0x20) &* NGramHasher.fnvPrime
                h = (h ^ hashes[end]) &* NGramHasher.fnvPrime
                emit(Int32(base + Int(bucket.remainder(h))))
            }
        }
    }

    /// Whether `characterFeatures` makes any ids.
    var makesCharacterFeatures: Bool { charMax > 0 && charMin >= 1 && buckets > 0 }

    /// Feature ids of the character n-grams of every token, offset by `base`, appended
    /// to `out`. A character is a Unicode scalar; its hash step takes its UTF-8 bytes.
    func characterFeatures(of tokens: TokenBuffer, base: Int, into out: inout [Int32], scratch: inout Scratch) {
        for t in 0..<tokens.count { characterFeatures(ofToken: t, in: tokens, base: base, into: &out, scratch: &scratch) }
    }

    /// `characterFeatures(of:base:into:scratch:)` of token `t` alone.
    func characterFeatures(ofToken t: Int, in tokens: TokenBuffer, base: Int, into out: inout [Int32], scratch: inout Scratch) {
        guard charMax > 0, charMin >= 1, buckets > 0 else { return }
        do {
            scratch.wrapped.removeAll(keepingCapacity: true)
            scratch.wrapped.append(0x3C)  // "<"
            scratch.wrapped.append(contentsOf: tokens.bytes[tokens.start(t)..<tokens.ends[t]])
            scratch.wrapped.append(0x3E)  // ">"
            scratch.starts.removeAll(keepingCapacity: true)
            for (k, b) in scratch.wrapped.enumerated() where b & 0xC0 != 0x80 { scratch.starts.append(k) }
            scratch.starts.append(scratch.wrapped.count)
            let characters = scratch.starts.count - 1
            for start in 0..<characters {
                var h = NGramHasher.fnvOffset
                for n in 1...charMax {
                    let end = start + n
                    guard end <= characters else { break }
                    for k in scratch.starts[end - 1]..<scratch.starts[end] {
                        h = (h ^ UInt64(scratch.wrapped[k])) &* NGramHasher.fnvPrime
                    }
                    // Lone boundary markers carry nothing.
                    if n >= charMin && !(n == 1 && (start == 0 || end == characters)) {
                        out.append(Int32(base + Int(bucket.remainder(h))))
                    }
                }
            }
        }
    }

    /// How many ids `features` and `characterFeatures` together give for `tokens`,
    /// without hashing (so the encoded set can be sized before it is filled).
    func featureCount(of tokens: TokenBuffer) -> Int {
        guard buckets > 0 else { return 0 }
        var count = 0
        if order >= 2 {
            for n in 2...order { count += max(0, tokens.count - n + 1) }
        }
        if charMax > 0 && charMin >= 1 && charMin <= charMax {
            tokens.bytes.withUnsafeBufferPointer { bytes in
                for t in 0..<tokens.count {
                    var characters = 2  // "<" and ">"
                    for k in tokens.start(t)..<tokens.ends[t] where bytes[k] & 0xC0 != 0x80 { characters += 1 }
                    for n in charMin...charMax { count += max(0, characters - n + 1) }
                    if charMin == 1 { count -= 2 }  // the lone "<" and ">"
                }
            }
        }
        return count
    }

    /// Feature ids of the n-grams of `tokens`, each offset by `base`.
    func features(of tokens: [String], base: Int) -> [Int32] {
        var out = [Int32]()
        features(of: TokenBuffer(tokens), base: base, into: &out)
        return out
    }

    /// Feature ids of the character n-grams of every token, offset by `base`.
    func characterFeatures(of tokens: [String], base: Int) -> [Int32] {
        var out = [Int32](), scratch = Scratch()
        characterFeatures(of: TokenBuffer(tokens), base: base, into: &out, scratch: &scratch)
        return out
    }

    static func fnv1a<S: Sequence>(_ bytes: S) -> UInt64 where S.Element == UInt8 {
        var h = fnvOffset
        for b in bytes { h = (h ^ UInt64(b)) &* fnvPrime }
        return h
    }
}
