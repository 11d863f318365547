#if canImport(Glibc)
import Glibc
#endif

/// The Gaussian noise DP-SGD adds to a step's summed clipped gradients: N(0, s²) per
/// coordinate, by Box–Muller in double precision from 53-bit uniforms (so the tails
/// reach ±8.6 s, not the ±5.8 s of 24-bit floats). Either from a SplitMix/xoshiro
/// stream keyed by (seed, step, slice), which a seed replays, or from getrandom(2).
struct GaussianNoise {
    let secure: Bool
    let seed: UInt64

    /// Adds noise of standard deviation `s` to `out[0..<count]`; `words` is scratch of
    /// at least `GaussianNoise.chunk` UInt64s. `key` names the slice (step and worker).
    func add(to out: UnsafeMutablePointer<Float>, count: Int, s: Double, key: UInt64,
             words: UnsafeMutablePointer<UInt64>) throws {
        var rng = SeededGenerator(seed: seed ^ (key &* 0xD1B5_4A32_D192_ED03))
        var done = 0
        while done < count {
            let n = min(GaussianNoise.chunk, (count - done + 1) & ~1)   // an even number of uniforms
            if secure {
                try SecureRandom.fill(words, count: n)
            } else {
                for k in 0..<n { words[k] = rng.next() }
            }
            var k = 0
            while k < n {
                // u1 in (0, 1]: log never sees 0.
                let u1 = (Double(words[k] >> 11) + 1) * 0x1p-53, u2 = Double(words[k + 1] >> 11) * 0x1p-53
                let radius = s * (-2 * log(u1)).squareRoot(), angle = 2 * Double.pi * u2
                let i = done + k
                out[i] += Float(radius * cos(angle))
                if i + 1 < count { out[i + 1] += Float(radius * sin(angle)) }
                k += 2
            }
            done += n
        }
    }

    static let chunk = 4096
}
