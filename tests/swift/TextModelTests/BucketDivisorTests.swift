import XCTest
@testable import TextModel

/// BucketDivisor.remainder is `%`, for every divisor kind: 0 and 1, powers of two,
/// the bucket counts models use, odd primes and the largest Int; hashes at the edges
/// (0, just below and above multiples of the divisor, UInt64.max) and at random.
final class BucketDivisorTests: XCTestCase {
    func testRemainderEqualsTheDivisionsRemainder() {
        var rng = SeededGenerator(seed: 16)
        let divisors = [0, 1, 2, 3, 7, 64, 97, 5_000, 199_999, 200_000, 2_000_000, 1 << 31, (1 << 31) - 1, (1 << 32) + 1,
                        Int.max, Int.max - 1, 1 << 62]
        for d in divisors {
            let divisor = BucketDivisor(d)
            var hashes: [UInt64] = [0, 1, UInt64.max, UInt64.max - 1, UInt64(max(d, 0)), UInt64(max(d, 1)) - 1,
                                    UInt64(max(d, 0)) &* 3 &+ 1]
            for _ in 0..<20_000 { hashes.append(rng.next()) }
            for h in hashes {
                let expected: UInt64 = d < 2 ? 0 : h % UInt64(d)
                XCTAssertEqual(divisor.remainder(h), expected, "\(h) mod \(d)")
            }
        }
    }
}
