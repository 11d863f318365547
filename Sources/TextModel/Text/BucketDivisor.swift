/// `hash % buckets` for a bucket count fixed when the hasher is made, without a 64-bit
/// division: one multiply-high by a precomputed reciprocal and at most one correcting
/// subtraction give the exact remainder, so every feature id is the one `%` gives.
///
/// Why: a 64-bit `div` takes 14–46 cycles on the CPUs this runs on, and a bag text
/// takes one per word n-gram and character n-gram id; for a tweet's ~40 ids that was
/// as long as summing their embedding rows.
///
/// Exactness: with r = ⌊2⁶⁴ / d⌋ (d ≥ 2) and h < 2⁶⁴, q = ⌊h·r / 2⁶⁴⌋ lies in
/// [⌊h/d⌋ − 1, ⌊h/d⌋], so h − q·d lies in [0, 2d) and one subtraction of d when it is
/// ≥ d leaves h mod d. BucketDivisorTests compares it with `%`.
struct BucketDivisor {
    let divisor: UInt64
    /// ⌊2⁶⁴ / divisor⌋ for divisor ≥ 2 (0 for 0 and 1, which `remainder` handles apart).
    private let reciprocal: UInt64

    /// `buckets` ≥ 0; a remainder by 0 or 1 is 0 (callers make no ids without buckets).
    init(_ buckets: Int) {
        divisor = UInt64(max(buckets, 0))
        if divisor < 2 {
            reciprocal = 0
        } else {
            // 2⁶⁴ = UInt64.max + 1: ⌊(max + 1)/d⌋ is ⌊max/d⌋, plus 1 when max ≡ d − 1.
            let (q, r) = UInt64.max.quotientAndRemainder(dividingBy: divisor)
            reciprocal = r == divisor - 1 ? q + 1 : q
        }
    }

    /// hash mod divisor (0 when the divisor is 0 or 1).
    @inline(__always)
    func remainder(_ hash: UInt64) -> UInt64 {
        let q = hash.multipliedFullWidth(by: reciprocal).high
        var r = hash &- q &* divisor
        if r >= divisor { r &-= divisor }
        return divisor < 2 ? 0 : r
    }
}
