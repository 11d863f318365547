/// Skipping ahead in a SeededGenerator's sequence, so that threads can each start at
/// their share of one sequence and draw exactly what a single thread would have drawn.
///
/// xoshiro256's state moves by a linear map over GF(2) (xors, shifts and a rotation of
/// its 256 bits), so n calls of next() are that map's n-th power, found by repeated
/// squaring: about 2·log₂ n products of 256 × 256 bit matrices (milliseconds).
extension SeededGenerator {
    /// This generator as it is after `steps` calls of next().
    func advanced(by steps: UInt64) -> SeededGenerator {
        guard steps > 0 else { return self }
        var vector = state
        var power = JumpMatrix.step
        var n = steps
        while n > 0 {
            if n & 1 != 0 { vector = power.apply(vector) }
            n >>= 1
            if n > 0 { power = power.squared() }
        }
        // The map is invertible, so a valid (non-zero) state stays non-zero.
        return SeededGenerator(state: vector) ?? self
    }
}

/// A 256 × 256 matrix over GF(2), column by column (4 words of 64 bits each).
private struct JumpMatrix {
    var columns: [UInt64]

    /// The state change of one next() call (SeededGenerator.next, without its output).
    static let step: JumpMatrix = {
        var columns = [UInt64](repeating: 0, count: 256 * 4)
        for bit in 0..<256 {
            var s = [UInt64](repeating: 0, count: 4)
            s[bit / 64] = 1 << UInt64(bit % 64)
            let t = s[1] << 17
            s[2] ^= s[0]
            s[3] ^= s[1]
            s[1] ^= s[2]
            s[0] ^= s[3]
            s[2] ^= t
            s[3] = (s[3] << 45) | (s[3] >> 19)
            for w in 0..<4 { columns[bit * 4 + w] = s[w] }
        }
        return JumpMatrix(columns: columns)
    }()

    /// M · v for a state v of 4 words.
    func apply(_ v: [UInt64]) -> [UInt64] {
        var out: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        columns.withUnsafeBufferPointer { c in
            for bit in 0..<256 where (v[bit / 64] >> UInt64(bit % 64)) & 1 != 0 {
                out.0 ^= c[bit * 4]
                out.1 ^= c[bit * 4 + 1]
                out.2 ^= c[bit * 4 + 2]
                out.3 ^= c[bit * 4 + 3]
            }
        }
        return [out.0, out.1, out.2, out.3]
    }

    /// M · M.
    func squared() -> JumpMatrix {
        var result = [UInt64](repeating: 0, count: 256 * 4)
        for bit in 0..<256 {
            let column = apply(Array(columns[(bit * 4)..<(bit * 4 + 4)]))
            for w in 0..<4 { result[bit * 4 + w] = column[w] }
        }
        return JumpMatrix(columns: result)
    }
}
