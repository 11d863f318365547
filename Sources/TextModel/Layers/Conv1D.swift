/// 1-D convolution over time, each sequence of a PackedBatch on its own (no window ever
/// spans two texts), computed as one GEMM over an unfolded ("im2col") matrix.
///
/// Shapes: x [N × E] packed rows (row (t, b) at `batch.stepOffsets[t] + b`),
///         weight [F × K·E] (filter f, offset j, feature e at f·K·E + j·E + e), bias [F],
///         unfolded [P × K·E], out [P × F],
/// where K is the kernel width, F the number of filters and P the output positions of
/// the whole batch (`positions(batch:width:)`). Output rows are sequence-major: sequence
/// b's positions are rows `first(b) ..< first(b) + positions(length: L_b)`, in order.
///
/// Short texts: a sequence of L tokens has L − K + 1 positions when L ≥ K. A non-empty
/// sequence shorter than the kernel is treated as zero-padded on the right to length K
/// and yields one position (rather than none), so even a one-word text gets a feature
/// from every kernel width. The padding belongs to the sequence alone and never depends
/// on its neighbours, so a text computes the same alone or in any batch. An empty
/// sequence has no positions (see ReLUMaxOverTime).
///
/// Work and memory are proportional to real tokens: P ≤ N for every width.
enum Conv1D {
    /// Output positions of one sequence of `length` tokens.
    @inline(__always)
    static func positions(length: Int, width k: Int) -> Int {
        length == 0 ? 0 : Swift.max(length - k + 1, 1)
    }

    /// Output positions of a whole batch (the rows of `unfolded` and `out`).
    static func positions(batch: PackedBatch, width k: Int) -> Int {
        var total = 0
        for length in batch.lengths { total += positions(length: length, width: k) }
        return total
    }

    /// Fills `unfolded` [P × K·E]: the row of position p of sequence b is the K input rows
    /// t = p ..< p + K of that sequence side by side, zeros for t ≥ L_b.
    static func unfold(x: UnsafePointer<Float>, dim e: Int, width k: Int, batch: PackedBatch,
                       unfolded: UnsafeMutablePointer<Float>) {
        let rowWidth = k * e
        var row = 0
        for b in 0..<batch.size {
            let length = batch.lengths[b]
            for p in 0..<positions(length: length, width: k) {
                let dst = unfolded + row * rowWidth
                for j in 0..<k {
                    let t = p + j
                    if t < length {
                        (dst + j * e).update(from: x + (batch.stepOffsets[t] + b) * e, count: e)
                    } else {
                        (dst + j * e).update(repeating: 0, count: e)
                    }
                }
                row += 1
            }
        }
    }

    /// out = unfold(x) · Wᵀ + b. Leaves the unfolded matrix in `unfolded` for `backward`.
    static func forward(x: UnsafePointer<Float>, dim e: Int, width k: Int, filters f: Int,
                        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, batch: PackedBatch,
                        unfolded: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>) {
        unfold(x: x, dim: e, width: k, batch: batch, unfolded: unfolded)
        Linear.forward(x: unfolded, rows: positions(batch: batch, width: k), inputDim: k * e, outputDim: f,
                       weight: weight, bias: bias, out: out)
    }

    /// Given dOut [P × F]: accumulates dW += dOutᵀ · unfolded and db += Σ dOut (unless nil), and adds
    /// the input gradient into dX [N × E] (the caller zeroes it first). `dUnfolded`
    /// [P × K·E] is scratch; its contents do not matter.
    static func backward(dOut: UnsafePointer<Float>, unfolded: UnsafePointer<Float>, dim e: Int, width k: Int,
                         filters f: Int, weight: UnsafePointer<Float>, batch: PackedBatch,
                         dWeight: UnsafeMutablePointer<Float>?, dBias: UnsafeMutablePointer<Float>?,
                         dUnfolded: UnsafeMutablePointer<Float>, dX: UnsafeMutablePointer<Float>) {
        let rowWidth = k * e
        Linear.backward(dOut: dOut, x: unfolded, rows: positions(batch: batch, width: k), inputDim: rowWidth, outputDim: f,
                        weight: weight, dWeight: dWeight, dBias: dBias, dx: dUnfolded)
        // Fold back ("col2im"): each unfolded block adds into the input row it copied;
        // the zero padding has no input row and takes no gradient.
        var row = 0
        for b in 0..<batch.size {
            let length = batch.lengths[b]
            for p in 0..<positions(length: length, width: k) {
                let src = dUnfolded + row * rowWidth
                for j in 0..<Swift.min(k, length - p) {
                    let dst = dX + (batch.stepOffsets[p + j] + b) * e
                    let g = src + j * e
                    for c in 0..<e { dst[c] += g[c] }
                }
                row += 1
            }
        }
    }
}

/// Kim-style pooling of a convolution's output: the maximum over each sequence's
/// positions, then ReLU (relu(max_p z_p) = max_p relu(z_p), so this equals ReLU before
/// the max but touches B·F values instead of P·F). The argmax row of each (sequence,
/// filter) is kept for the backward pass; the first maximum wins ties.
///
/// Shapes: conv [P × F] rows as Conv1D lays them out; pooled and argmax [B × stride]
/// with each sequence's F values at columns `column ..< column + F` (so several kernel
/// widths can write side by side into one feature matrix). A sequence with no positions
/// (an empty text) pools to 0, the least value ReLU gives and what SequencePooling gives
/// an empty text, with argmax −1 (no gradient).
enum ReLUMaxOverTime {
    static func forward(conv: UnsafePointer<Float>, filters f: Int, width k: Int, batch: PackedBatch,
                        pooled: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Int32>,
                        stride: Int, column: Int) {
        var first = 0
        for b in 0..<batch.size {
            let count = Conv1D.positions(length: batch.lengths[b], width: k)
            let out = pooled + b * stride + column
            let arg = argmax + b * stride + column
            if count == 0 {
                out.update(repeating: 0, count: f)
                arg.update(repeating: -1, count: f)
                continue
            }
            // 8 filters at a time over all positions, their maxima and rows in registers
            // (a filter's comparisons are the scalar loop's, in the same order: the same
            // result), then the filters past the last 8 one by one.
            let full = f - f % 8
            for j in Swift.stride(from: 0, to: full, by: 8) {
                var best = UnsafeRawPointer(conv + first * f + j).loadUnaligned(as: SIMD8<Float>.self)
                var at = SIMD8<Int32>(repeating: Int32(first))
                for r in (first + 1)..<(first + count) {
                    let v = UnsafeRawPointer(conv + r * f + j).loadUnaligned(as: SIMD8<Float>.self)
                    let greater = v .> best
                    best.replace(with: v, where: greater)
                    at.replace(with: SIMD8<Int32>(repeating: Int32(r)), where: greater)
                }
                UnsafeMutableRawPointer(out + j).storeBytes(of: best, as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(arg + j).storeBytes(of: at, as: SIMD8<Int32>.self)
            }
            for j in full..<f {
                out[j] = conv[first * f + j]
                arg[j] = Int32(first)
                for r in (first + 1)..<(first + count) where conv[r * f + j] > out[j] {
                    out[j] = conv[r * f + j]
                    arg[j] = Int32(r)
                }
            }
            for j in 0..<f where !(out[j] > 0) { out[j] = 0 }
            first += count
        }
    }

    /// Adds dPooled into dConv [P × F] at the argmax rows, where the maximum was positive
    /// (ReLU passes no gradient at or below 0). `conv` is the forward input.
    static func backward(dPooled: UnsafePointer<Float>, conv: UnsafePointer<Float>, argmax: UnsafePointer<Int32>,
                         filters f: Int, batchSize: Int, stride: Int, column: Int,
                         dConv: UnsafeMutablePointer<Float>) {
        for b in 0..<batchSize {
            let g = dPooled + b * stride + column
            let arg = argmax + b * stride + column
            for j in 0..<f {
                let r = Int(arg[j])
                if r >= 0 && conv[r * f + j] > 0 { dConv[r * f + j] += g[j] }
            }
        }
    }
}
