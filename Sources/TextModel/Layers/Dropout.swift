/// Inverted dropout: while training, each value is zeroed with probability `rate` and
/// the survivors scaled by 1/(1−rate), so inference needs no change. The mask (0 or the
/// scale per value) is kept for the backward pass. Shapes: x, mask [count].
enum Dropout {
    static func forward(_ x: UnsafeMutablePointer<Float>, count: Int, rate: Float,
                        mask: UnsafeMutablePointer<Float>, rng: inout SeededGenerator) {
        let scale = 1 / (1 - rate)
        for i in 0..<count {
            let keep = rng.uniform(0, 1) >= rate
            mask[i] = keep ? scale : 0
            x[i] *= mask[i]
        }
    }

    /// dX = dY ⊙ mask, in place.
    static func backward(_ dx: UnsafeMutablePointer<Float>, count: Int, mask: UnsafePointer<Float>) {
        for i in 0..<count { dx[i] *= mask[i] }
    }
}
