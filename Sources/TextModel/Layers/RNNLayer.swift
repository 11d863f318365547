/// One plain (Elman) recurrent layer over a PackedBatch: h' = tanh(W_ih x + W_hh h + b).
///
/// Shapes (N packed rows, I input width, H hidden width):
///   x [N × I], weightIH [H × I], weightHH [H × H], bias [H], hidden [N × H]
/// One bias stands for PyTorch's b_ih + b_hh (as in LSTMLayer). The input projection of
/// all steps is one matrix product; only the recurrent product runs step by step, on the
/// rows still running (through RecurrentProduct: W_hh packed once per pass into
/// `packedScratch` [RecurrentProduct.scratchFloats(blocks: 1, …)], or into a buffer
/// allocated for the call without it). The layer keeps no activations besides its outputs: tanh′ is
/// 1 − h².
enum RNNLayer {
    static func forward(x: UnsafePointer<Float>, inputDim: Int, hiddenDim: Int,
                        weightIH: UnsafePointer<Float>, weightHH: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                        batch: PackedBatch, hidden: UnsafeMutablePointer<Float>) {
        InputProjection.compute(x: x, rows: batch.totalRows, inputDim: inputDim, weight: weightIH, bias: bias,
                                width: hiddenDim, into: hidden)
        forward(projected: hidden, hiddenDim: hiddenDim, weightHH: weightHH, batch: batch)
    }

    /// The steps after the input projection: `hidden` holds W_ih x + b of every row on
    /// entry (from `forward(x:…)`), or, with `tableRows`, step t's rows gathered from an
    /// inference table just before the step reads them and the states on return.
    static func forward(projected hidden: UnsafeMutablePointer<Float>, hiddenDim: Int, weightHH: UnsafePointer<Float>,
                        batch: PackedBatch, tableRows: InputProjection.TableRows? = nil,
                        packedScratch: UnsafeMutablePointer<Float>? = nil) {
        let h = hiddenDim
        RecurrentProduct.withPanels(weightHH, blocks: 1, hiddenDim: h, forward: true, scratch: packedScratch) { panels in
            for t in 0..<batch.steps {
                tableRows?.gather(batch: batch, step: t, into: hidden)
                let rows = batch.stepRows[t], offset = batch.stepOffsets[t]
                if t > 0 {
                    let previous = hidden + batch.stepOffsets[t - 1] * h
                    if let panels = panels {
                        panels.multiplyAdd(m: rows, a: previous, lda: h, c: hidden + offset * h, ldc: h)
                    } else {
                        BLAS.gemm(transB: true, m: rows, n: h, k: h, a: previous, lda: h,
                                  b: weightHH, ldb: h, beta: 1, c: hidden + offset * h, ldc: h)
                    }
                }
                tanhInPlace(hidden + offset * h, rows * h)
            }
        }
    }

    /// Backward pass. `dHidden` [N × H] holds the loss gradient with respect to every
    /// output row on entry and is used as scratch (recurrent gradients are added into it).
    /// Accumulates into dWeightIH, dWeightHH, dBias; writes dX [N × I] when given.
    /// Scratch: dPre [N × H] (gradient of the pre-activations), previousHidden [N × H].
    static func backward(x: UnsafePointer<Float>, inputDim: Int, hiddenDim: Int,
                         weightIH: UnsafePointer<Float>, weightHH: UnsafePointer<Float>,
                         batch: PackedBatch, hidden: UnsafePointer<Float>, dHidden: UnsafeMutablePointer<Float>,
                         dWeightIH: UnsafeMutablePointer<Float>?, dWeightHH: UnsafeMutablePointer<Float>?,
                         dBias: UnsafeMutablePointer<Float>?, dX: UnsafeMutablePointer<Float>?,
                         dPre: UnsafeMutablePointer<Float>, previousHidden: UnsafeMutablePointer<Float>,
                         packedScratch: UnsafeMutablePointer<Float>? = nil) {
        let h = hiddenDim, n = batch.totalRows
        RecurrentProduct.withPanels(weightHH, blocks: 1, hiddenDim: h, forward: false, scratch: packedScratch) { panels in
            for t in stride(from: batch.steps - 1, through: 0, by: -1) {
                let rows = batch.stepRows[t], offset = batch.stepOffsets[t]
                // A step's rows are contiguous: one loop over all of them.
                let out = hidden + offset * h, d = dHidden + offset * h, dp = dPre + offset * h
                for k in 0..<(rows * h) { dp[k] = d[k] * (1 - out[k] * out[k]) }
                if t > 0 {
                    if let panels = panels {
                        panels.multiplyAdd(m: rows, a: dp, lda: h, c: dHidden + batch.stepOffsets[t - 1] * h, ldc: h)
                    } else {
                        BLAS.gemm(m: rows, n: h, k: h, a: dp, lda: h,
                                  b: weightHH, ldb: h, beta: 1, c: dHidden + batch.stepOffsets[t - 1] * h, ldc: h)
                    }
                }
            }
        }
        // Parameter gradients, unless the caller asked for input gradients only.
        if let dWeightIH, let dWeightHH, let dBias {
            batch.shiftToPreviousStep(hidden, width: h, into: previousHidden)
            RecurrentProduct.batchProduct(transA: true, m: h, n: h, k: n, a: dPre, lda: h,
                                          b: previousHidden, ldb: h, beta: 1, c: dWeightHH, ldc: h)
            RecurrentProduct.batchProduct(transA: true, m: h, n: inputDim, k: n, a: dPre, lda: h,
                                          b: x, ldb: inputDim, beta: 1, c: dWeightIH, ldc: inputDim)
            for r in 0..<n {
                let d = dPre + r * h
                for j in 0..<h { dBias[j] += d[j] }
            }
        }
        if let dX = dX {
            RecurrentProduct.batchProduct(m: n, n: inputDim, k: h, a: dPre, lda: h,
                                          b: weightIH, ldb: inputDim, beta: 0, c: dX, ldc: inputDim)
        }
    }
}
