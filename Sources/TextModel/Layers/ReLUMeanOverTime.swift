/// Mean pooling of a convolution's output: ReLU at every position, then the mean over
/// each sequence's own positions (model.pooling "mean" for a CNN). Unlike the maximum,
/// the mean keeps how much of a feature the whole text holds, which a target summed over
/// the text's words needs. ReLU comes first here (the mean of ReLU is not the ReLU of
/// the mean).
///
/// Shapes: conv [P × F] rows as Conv1D lays them out; pooled [B × stride] with each
/// sequence's F values at columns `column ..< column + F`, as ReLUMaxOverTime writes
/// them. A sequence with no positions (an empty text) pools to 0 and takes no gradient.
enum ReLUMeanOverTime {
    static func forward(conv: UnsafePointer<Float>, filters f: Int, width k: Int, batch: PackedBatch,
                        pooled: UnsafeMutablePointer<Float>, stride: Int, column: Int) {
        var first = 0
        for b in 0..<batch.size {
            let count = Conv1D.positions(length: batch.lengths[b], width: k)
            let out = pooled + b * stride + column
            out.update(repeating: 0, count: f)
            for r in first..<(first + count) {
                let row = conv + r * f
                for j in 0..<f where row[j] > 0 { out[j] += row[j] }
            }
            if count > 1 {
                let scale = 1 / Float(count)
                for j in 0..<f { out[j] *= scale }
            }
            first += count
        }
    }

    /// Adds dPooled / P_b into dConv [P × F] at every position of sequence b where the
    /// convolution output was positive (ReLU passes no gradient at or below 0). `conv`
    /// is the forward input.
    static func backward(dPooled: UnsafePointer<Float>, conv: UnsafePointer<Float>, filters f: Int, width k: Int,
                         batch: PackedBatch, stride: Int, column: Int, dConv: UnsafeMutablePointer<Float>) {
        var first = 0
        for b in 0..<batch.size {
            let count = Conv1D.positions(length: batch.lengths[b], width: k)
            let g = dPooled + b * stride + column
            let scale = count > 0 ? 1 / Float(count) : 0
            for r in first..<(first + count) {
                let row = conv + r * f, dRow = dConv + r * f
                for j in 0..<f where row[j] > 0 { dRow[j] += g[j] * scale }
            }
            first += count
        }
    }
}
