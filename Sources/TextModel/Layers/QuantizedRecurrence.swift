import CKernels

/// The step loops of LSTMLayer, GRULayer and RNNLayer for an int8 model: the same
/// gates and states, with the recurrent product h_{t−1} · W_hhᵀ run in int8
/// (QuantizedMatrix.linear: the previous states quantized per row on the fly, int32
/// sums). Inference only; they start from zero states, as `forward(projected:…)` does
/// without `initial`. Shapes as in the f32 layers: projected [N × blocks·H] holding
/// W_ih x + b of every row (or gathered from `tableRows` step by step), weightHH
/// [blocks·H × H].
enum QuantizedRecurrence {
    /// Rows of a step whose table rows, recurrent product and gate math run back to
    /// back: their gates (8 × 4H floats, 16 kB at H = 128) stay in L1 throughout.
    static let lstmBlockRows = 8

    /// LSTMLayer.forward(projected:…): gates [N × 4H], cells and hidden [N × H].
    /// A step runs block by block of `lstmBlockRows` rows, product then gates: every row
    /// depends only on its own previous state, so the floats are those of one product
    /// over all rows followed by the gate math.
    static func lstm(projected gates: UnsafeMutablePointer<Float>, hiddenDim h: Int, weightHH: QuantizedMatrix,
                     batch: PackedBatch, cells: UnsafeMutablePointer<Float>, hidden: UnsafeMutablePointer<Float>,
                     tableRows: InputProjection.TableRows?) {
        let g4 = 4 * h
        for t in 0..<batch.steps {
            let rows = batch.stepRows[t], offset = batch.stepOffsets[t]
            let previous = t > 0 ? batch.stepOffsets[t - 1] : 0
            for first in stride(from: 0, to: rows, by: lstmBlockRows) {
                let count = min(lstmBlockRows, rows - first), row = offset + first
                tableRows?.gather(batch: batch, step: t, into: gates, rows: first..<(first + count))
                let blockGates = gates + row * g4, blockCells = cells + row * h, blockHidden = hidden + row * h
                if t > 0 {
                    weightHH.linear(x: hidden + (previous + first) * h, count: count, bias: nil, out: blockGates,
                                    accumulate: true)
                }
                let previousCells: UnsafePointer<Float>? = t > 0 ? UnsafePointer(cells + (previous + first) * h) : nil
                if LSTMLayer.avx2 {
                    tm_lstm_step_avx2(blockGates, blockCells, blockHidden, previousCells, count, h)
                } else {
                    LSTMLayer.step(gates: blockGates, cells: blockCells, hidden: blockHidden, previousCells: previousCells,
                                   rows: count, hiddenDim: h)
                }
            }
        }
    }

    /// GRULayer.forward(projected:…): gates [N × 3H], recurrent [N × 3H], hidden [N × H].
    static func gru(projected gates: UnsafeMutablePointer<Float>, hiddenDim h: Int, weightHH: QuantizedMatrix,
                    biasHH: UnsafePointer<Float>, batch: PackedBatch, recurrent: UnsafeMutablePointer<Float>,
                    hidden: UnsafeMutablePointer<Float>, tableRows: InputProjection.TableRows?) {
        let g3 = 3 * h
        for t in 0..<batch.steps {
            tableRows?.gather(batch: batch, step: t, into: gates)
            let rows = batch.stepRows[t], offset = batch.stepOffsets[t]
            let previous = t > 0 ? batch.stepOffsets[t - 1] : 0
            if t > 0 {
                weightHH.linear(x: hidden + previous * h, count: rows, bias: biasHH, out: recurrent + offset * g3)
            } else {
                for r in 0..<rows { (recurrent + (offset + r) * g3).update(from: biasHH, count: g3) }
            }
            for b in 0..<rows {
                let gate = gates + (offset + b) * g3, rec = recurrent + (offset + b) * g3, out = hidden + (offset + b) * h
                for j in 0..<(2 * h) { gate[j] = sigmoid(gate[j] + rec[j]) }
                for j in 0..<h { gate[2 * h + j] = tanhFloat(gate[2 * h + j] + gate[j] * rec[2 * h + j]) }
                let z = gate + h, candidate = gate + 2 * h
                if t > 0 {
                    let hPrev = hidden + (previous + b) * h
                    for j in 0..<h { out[j] = candidate[j] + z[j] * (hPrev[j] - candidate[j]) }
                } else {
                    for j in 0..<h { out[j] = candidate[j] - z[j] * candidate[j] }
                }
            }
        }
    }

    /// RNNLayer.forward(projected:…): hidden [N × H].
    static func rnn(projected hidden: UnsafeMutablePointer<Float>, hiddenDim h: Int, weightHH: QuantizedMatrix,
                    batch: PackedBatch, tableRows: InputProjection.TableRows?) {
        for t in 0..<batch.steps {
            tableRows?.gather(batch: batch, step: t, into: hidden)
            let rows = batch.stepRows[t], offset = batch.stepOffsets[t]
            if t > 0 {
                weightHH.linear(x: hidden + batch.stepOffsets[t - 1] * h, count: rows, bias: nil, out: hidden + offset * h,
                                accumulate: true)
            }
            tanhInPlace(hidden + offset * h, rows * h)
        }
    }
}
