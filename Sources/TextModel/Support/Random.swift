#if canImport(Glibc)
import Glibc
#endif

/// A small, fast, seedable generator (xoshiro256**, seeded through SplitMix64).
/// Every random choice in training goes through one of these so that a seed fixes
/// the result; Swift's default generator is not seedable.
struct SeededGenerator: RandomNumberGenerator {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    /// The four state words, for checkpoints; `init(state:)` continues the sequence.
    var state: [UInt64] { [s.0, s.1, s.2, s.3] }

    init?(state: [UInt64]) {
        guard state.count == 4, state.contains(where: { $0 != 0 }) else { return nil }
        s = (state[0], state[1], state[2], state[3])
    }

    mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = (s.3 << 45) | (s.3 >> 19)
        return result
    }

    /// Uniform in [low, high).
    mutating func uniform(_ low: Float, _ high: Float) -> Float {
        let unit = Float(next() >> 40) * (1.0 / Float(1 << 24))
        return low + (high - low) * unit
    }

    /// `count` draws of N(0, σ²) into `out`, two at a time by Box–Muller (the second of a
    /// pair is dropped when count is odd).
    mutating func fillNormal(_ out: UnsafeMutablePointer<Float>, count: Int, sigma: Float) {
        var i = 0
        while i < count {
            let u1 = max(uniform(0, 1), 1e-12), u2 = uniform(0, 1)
            let radius = sqrtf(-2 * logf(u1))
            out[i] = radius * cosf(2 * .pi * u2)
            if i + 1 < count { out[i + 1] = radius * sinf(2 * .pi * u2) }
            i += 2
        }
        if sigma != 1 {
            for k in 0..<count { out[k] *= sigma }
        }
    }

    /// Fisher-Yates shuffle whose result depends only on the generator state.
    mutating func shuffle<T>(_ a: inout [T]) {
        guard a.count > 1 else { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) {
            let j = Int(next() % UInt64(i + 1))
            a.swapAt(i, j)
        }
    }
}
