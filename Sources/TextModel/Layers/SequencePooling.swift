/// Turns each sequence's hidden states into one vector. Shapes: hidden [N × H] packed
/// rows, pooled [B × H], argmax [B × H] (max pooling only; others may pass nil). An
/// empty sequence pools to zeros.
///   last: the state after the last token
///   mean: the average over all the sequence's states
///   max:  the element-wise maximum over them (argmax rows kept for the backward pass)
/// Public as `Config.Pooling`, the type of `model.pooling`; raw values are its JSON spellings.
public enum SequencePooling: String, CaseIterable {
    case last, mean, max

    func forward(hidden: UnsafePointer<Float>, width h: Int, batch: PackedBatch,
                 pooled: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Int32>?) {
        for b in 0..<batch.size {
            let out = pooled + b * h
            let length = batch.lengths[b]
            guard length > 0 else { out.update(repeating: 0, count: h); continue }
            switch self {
            case .last:
                out.update(from: hidden + batch.lastRows[b] * h, count: h)
            case .mean:
                out.update(repeating: 0, count: h)
                for t in 0..<length {
                    let row = hidden + (batch.stepOffsets[t] + b) * h
                    for j in 0..<h { out[j] += row[j] }
                }
                let scale = 1 / Float(length)
                for j in 0..<h { out[j] *= scale }
            case .max:
                guard let argmax = argmax else { continue }
                let arg = argmax + b * h
                let first = batch.stepOffsets[0] + b
                out.update(from: hidden + first * h, count: h)
                arg.update(repeating: Int32(first), count: h)
                for t in 1..<Swift.max(length, 1) {
                    let r = batch.stepOffsets[t] + b
                    SequencePooling.keepLarger(row: hidden + r * h, index: Int32(r), out: out, argmax: arg, count: h)
                }
            }
        }
    }

    /// out[j], argmax[j] = row[j], index where row[j] > out[j]. Four lanes at a time in
    /// explicit vectors: written as a scalar loop, the compiler turns the select back
    /// into a branch and a conditional store, and the loop stays scalar.
    @inline(__always)
    private static func keepLarger(row: UnsafePointer<Float>, index: Int32, out: UnsafeMutablePointer<Float>,
                                   argmax: UnsafeMutablePointer<Int32>, count: Int) {
        let indices = SIMD4<Int32>(repeating: index)
        var j = 0
        while j + 4 <= count {
            let v = UnsafeRawPointer(row + j).loadUnaligned(as: SIMD4<Float>.self)
            let o = UnsafeRawPointer(out + j).loadUnaligned(as: SIMD4<Float>.self)
            let a = UnsafeRawPointer(argmax + j).loadUnaligned(as: SIMD4<Int32>.self)
            let greater = v .> o
            UnsafeMutableRawPointer(out + j).storeBytes(of: o.replacing(with: v, where: greater), as: SIMD4<Float>.self)
            UnsafeMutableRawPointer(argmax + j).storeBytes(of: a.replacing(with: indices, where: greater), as: SIMD4<Int32>.self)
            j += 4
        }
        while j < count {
            if row[j] > out[j] { out[j] = row[j]; argmax[j] = index }
            j += 1
        }
    }

    /// Adds the gradient of the pooled vectors dPooled [B × H] into dHidden [N × H].
    func backward(dPooled: UnsafePointer<Float>, width h: Int, batch: PackedBatch,
                  argmax: UnsafePointer<Int32>?, dHidden: UnsafeMutablePointer<Float>) {
        for b in 0..<batch.size {
            let length = batch.lengths[b]
            guard length > 0 else { continue }
            let g = dPooled + b * h
            switch self {
            case .last:
                let row = dHidden + batch.lastRows[b] * h
                for j in 0..<h { row[j] += g[j] }
            case .mean:
                let scale = 1 / Float(length)
                for t in 0..<length {
                    let row = dHidden + (batch.stepOffsets[t] + b) * h
                    for j in 0..<h { row[j] += g[j] * scale }
                }
            case .max:
                guard let argmax = argmax else { continue }
                let arg = argmax + b * h
                for j in 0..<h { dHidden[Int(arg[j]) * h + j] += g[j] }
            }
        }
    }
}
