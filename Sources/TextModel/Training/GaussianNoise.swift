#if canImport(Glibc)
import Glibc
#endif

/// The Gaussian noise DP-SGD adds to a step's summed clipped gradients: N(0, s²) per
/// coordinate, by Marsaglia's polar method in double precision from 53-bit uniforms
/// (no trigonometry; tails reach beyond ±12 s). Either from a SplitMix/xoshiro stream
/// keyed by (seed, step, slice), which a seed replays, or from the operating system's
/// CSPRNG (SecureRandom).
struct GaussianNoise {
    let secure: Bool
    let seed: UInt64

    /// Adds noise of standard deviation `s` to `out[0..<count]`; `words` is scratch of
    /// `GaussianNoise.chunk` UInt64s. `key` names the slice (step and worker).
    func add(to out: UnsafeMutablePointer<Float>, count: Int, s: Double, key: UInt64,
             words: UnsafeMutablePointer<UInt64>) throws {
        var rng = SeededGenerator(seed: seed ^ (key &* 0xD1B5_4A32_D192_ED03))
        var available = 0, next = 0
        func word() throws -> UInt64 {
            if next == available {
                if secure { try SecureRandom.fill(words, count: GaussianNoise.chunk) }
                else { for k in 0..<GaussianNoise.chunk { words[k] = rng.next() } }
                available = GaussianNoise.chunk
                next = 0
            }
            next += 1
            return words[next - 1]
        }
        var i = 0
        while i < count {
            // A point uniform in the unit disc (rejection: 21% of draws), then both
            // coordinates scaled to independent normals.
            let u = Double(try word() >> 11) * 0x1p-52 - 1, v = Double(try word() >> 11) * 0x1p-52 - 1
            let r = u * u + v * v
            guard r < 1, r > 0 else { continue }
            let factor = s * (-2 * log(r) / r).squareRoot()
            out[i] += Float(u * factor)
            if i + 1 < count { out[i + 1] += Float(v * factor) }
            i += 2
        }
    }

    static let chunk = 4096
}
