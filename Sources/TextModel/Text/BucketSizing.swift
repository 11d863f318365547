/// Sizes the hash buckets of word and character n-grams to the training data
/// (tokenizer.fit_buckets), so a small corpus does not carry 200,000 embedding rows it
/// never touches: the default model's file was 80 MB even for 400 texts.
///
/// How: the training set is encoded with the configured `buckets` (B); the distinct
/// buckets its texts use (u) are counted; the fitted count is the smallest divisor B'
/// of B with B' ≥ `rowsPerBucketUsed` · u (B itself when none is smaller). Because
/// B' divides B, `h mod B' = (h mod B) mod B'` for every n-gram hash h, so folding the
/// encoded ids in place gives exactly the ids an encoder with B' buckets computes: the
/// saved model, whose resolved config records B', hashes new texts the same way, and
/// the file format does not change. The spare factor keeps collisions between the
/// n-grams seen in training rare (each bucket seen holds one of about 4 rows in use).
enum BucketSizing {
    /// Rows kept per distinct bucket the training texts use.
    static let rowsPerBucketUsed = 4
    /// Fewer rows than this are never worth the collisions.
    static let minimumBuckets = 1024

    /// The fitted bucket count for `configured` buckets of which the data uses `used`.
    static func fitted(configured: Int, used: Int) -> Int {
        let wanted = max(minimumBuckets, rowsPerBucketUsed * used)
        guard wanted < configured else { return configured }
        var best = configured
        var d = 1
        while d * d <= configured {
            if configured % d == 0 {
                for divisor in [d, configured / d] where divisor >= wanted && divisor < best { best = divisor }
            }
            d += 1
        }
        return best
    }

    /// Distinct buckets among the hashed ids (those ≥ `base`, the vocabulary size) of
    /// `ids`, whose buckets are 0..<buckets.
    static func distinctBuckets(_ ids: UnsafeBufferPointer<Int32>, base: Int, buckets: Int) -> Int {
        var seen = [UInt64](repeating: 0, count: (buckets + 63) / 64)
        return mark(ids, base: base, buckets: buckets, seen: &seen)
    }

    /// Marks the buckets of `ids` (as `distinctBuckets` reads them) in the bit set
    /// `seen` of (buckets + 63) / 64 words; returns how many were not marked before.
    static func mark(_ ids: UnsafeBufferPointer<Int32>, base: Int, buckets: Int, seen: inout [UInt64]) -> Int {
        var count = 0
        seen.withUnsafeMutableBufferPointer { seen in
            for id in ids where Int(id) >= base {
                let b = Int(id) - base
                guard b < buckets else { continue }
                let bit: UInt64 = 1 << UInt64(b & 63)
                if seen[b >> 6] & bit == 0 {
                    seen[b >> 6] |= bit
                    count += 1
                }
            }
        }
        return count
    }

    /// Rewrites every hashed id (≥ `base`) of `ids` from `buckets` to `fitted` buckets,
    /// which must divide it.
    static func fold(_ ids: UnsafeMutableBufferPointer<Int32>, base: Int, into fitted: Int) {
        for k in ids.indices where Int(ids[k]) >= base {
            ids[k] = Int32(base + (Int(ids[k]) - base) % fitted)
        }
    }
}
