/// One GRU layer over a PackedBatch, with PyTorch's equations and gate order r, z, n:
///
///   r  = σ(W_ir x + b_ir + W_hr h + b_hr)
///   z  = σ(W_iz x + b_iz + W_hz h + b_hz)
///   n  = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
///   h' = (1 − z) ⊙ n + z ⊙ h
///
/// Shapes (N packed rows, I input width, H hidden width):
///   x [N × I], weightIH [3H × I], weightHH [3H × H], biasIH [3H], biasHH [3H]
///   gates [N × 3H] (r, z, n after activation), recurrent [N × 3H] (W_hh h + b_hh of the
///   previous state), hidden [N × H]
/// The two biases are kept apart as in PyTorch because b_hn sits inside r ⊙ (…).
/// The input projection of all steps is one matrix product; only the recurrent product
/// runs step by step, on the rows still running, through RecurrentProduct (W_hh packed
/// once per pass into `packedScratch` [RecurrentProduct.scratchFloats(blocks: 3, …)], or
/// into a buffer allocated for the call without it).
enum GRULayer {
    static func forward(x: UnsafePointer<Float>, inputDim: Int, hiddenDim: Int,
                        weightIH: UnsafePointer<Float>, weightHH: UnsafePointer<Float>,
                        biasIH: UnsafePointer<Float>, biasHH: UnsafePointer<Float>,
                        batch: PackedBatch, gates: UnsafeMutablePointer<Float>,
                        recurrent: UnsafeMutablePointer<Float>, hidden: UnsafeMutablePointer<Float>) {
        InputProjection.compute(x: x, rows: batch.totalRows, inputDim: inputDim, weight: weightIH, bias: biasIH,
                                width: 3 * hiddenDim, into: gates)
        forward(projected: gates, hiddenDim: hiddenDim, weightHH: weightHH, biasHH: biasHH, batch: batch,
                recurrent: recurrent, hidden: hidden)
    }

    /// The steps after the input projection: `gates` holds W_ih x + b_ih of every row on
    /// entry (from `forward(x:…)`), or, with `tableRows`, step t's rows gathered from an
    /// inference table just before the step reads them and the activated gates on return.
    static func forward(projected gates: UnsafeMutablePointer<Float>, hiddenDim: Int, weightHH: UnsafePointer<Float>,
                        biasHH: UnsafePointer<Float>, batch: PackedBatch,
                        recurrent: UnsafeMutablePointer<Float>, hidden: UnsafeMutablePointer<Float>,
                        tableRows: InputProjection.TableRows? = nil, packedScratch: UnsafeMutablePointer<Float>? = nil) {
        let h = hiddenDim, g3 = 3 * hiddenDim, n = batch.totalRows
        for r in 0..<n {
            (recurrent + r * g3).update(from: biasHH, count: g3)   // h = 0 at t = 0: the bias alone
        }
        RecurrentProduct.withPanels(weightHH, blocks: 3, hiddenDim: h, forward: true, scratch: packedScratch) { panels in
            for t in 0..<batch.steps {
                tableRows?.gather(batch: batch, step: t, into: gates)
                let rows = batch.stepRows[t], offset = batch.stepOffsets[t]
                let previous = t > 0 ? batch.stepOffsets[t - 1] : 0
                if t > 0 {
                    if let panels = panels {
                        panels.multiplyAdd(m: rows, a: hidden + previous * h, lda: h, c: recurrent + offset * g3, ldc: g3)
                    } else {
                        BLAS.gemm(transB: true, m: rows, n: g3, k: h, a: hidden + previous * h, lda: h,
                                  b: weightHH, ldb: h, beta: 1, c: recurrent + offset * g3, ldc: g3)
                    }
                }
                for b in 0..<rows {
                    let gate = gates + (offset + b) * g3
                    let rec = recurrent + (offset + b) * g3
                    let out = hidden + (offset + b) * h
                    for j in 0..<(2 * h) { gate[j] = sigmoid(gate[j] + rec[j]) }                 // r and z
                    for j in 0..<h { gate[2 * h + j] = tanhFloat(gate[2 * h + j] + gate[j] * rec[2 * h + j]) }  // n
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
    }

    /// Backward pass. `dHidden` [N × H] holds the loss gradient with respect to every
    /// output row on entry and is used as scratch (recurrent gradients are added into it).
    /// Accumulates into dWeightIH, dWeightHH, dBiasIH, dBiasHH; writes dX [N × I] when given.
    /// Scratch: dGatesX [N × 3H] (gradient of the input-side pre-activations),
    /// dGatesH [N × 3H] (of W_hh h + b_hh), previousHidden [N × H], zeros [H].
    static func backward(x: UnsafePointer<Float>, inputDim: Int, hiddenDim: Int,
                         weightIH: UnsafePointer<Float>, weightHH: UnsafePointer<Float>,
                         batch: PackedBatch, gates: UnsafePointer<Float>, recurrent: UnsafePointer<Float>,
                         hidden: UnsafePointer<Float>, dHidden: UnsafeMutablePointer<Float>,
                         dWeightIH: UnsafeMutablePointer<Float>?, dWeightHH: UnsafeMutablePointer<Float>?,
                         dBiasIH: UnsafeMutablePointer<Float>?, dBiasHH: UnsafeMutablePointer<Float>?,
                         dX: UnsafeMutablePointer<Float>?,
                         dGatesX: UnsafeMutablePointer<Float>, dGatesH: UnsafeMutablePointer<Float>,
                         previousHidden: UnsafeMutablePointer<Float>, zeros: UnsafeMutablePointer<Float>,
                         packedScratch: UnsafeMutablePointer<Float>? = nil) {
        let h = hiddenDim, g3 = 3 * hiddenDim, n = batch.totalRows
        zeros.update(repeating: 0, count: h)
        RecurrentProduct.withPanels(weightHH, blocks: 3, hiddenDim: h, forward: false, scratch: packedScratch) { panels in
            for t in stride(from: batch.steps - 1, through: 0, by: -1) {
                let rows = batch.stepRows[t], offset = batch.stepOffsets[t]
                let previous = t > 0 ? batch.stepOffsets[t - 1] : 0
                for b in 0..<rows {
                    let row = offset + b
                    let gate = gates + row * g3, rec = recurrent + row * g3
                    let dx = dGatesX + row * g3, dh = dGatesH + row * g3
                    let dOut = dHidden + row * h
                    // Rows at t = 0 have no previous state: read a row of zeros instead of
                    // branching inside the loop.
                    let hPrev: UnsafePointer<Float> = t > 0 ? hidden + (previous + b) * h : UnsafePointer(zeros)
                    for j in 0..<h {
                        let r = gate[j], z = gate[h + j], c = gate[2 * h + j]
                        let d = dOut[j]
                        let dCandidate = d * (1 - z) * (1 - c * c)
                        let dz = d * (hPrev[j] - c) * z * (1 - z)
                        let dr = dCandidate * rec[2 * h + j] * r * (1 - r)
                        dx[j] = dr; dx[h + j] = dz; dx[2 * h + j] = dCandidate
                        dh[j] = dr; dh[h + j] = dz; dh[2 * h + j] = dCandidate * r
                    }
                }
                if t > 0 {
                    // The previous states of these rows feed this step twice: through z ⊙ h
                    // directly, and through W_hh h into every gate.
                    for b in 0..<rows {
                        let z = gates + (offset + b) * g3 + h
                        let d = dHidden + (offset + b) * h
                        let dPrev = dHidden + (previous + b) * h
                        for j in 0..<h { dPrev[j] += d[j] * z[j] }
                    }
                    if let panels = panels {
                        panels.multiplyAdd(m: rows, a: dGatesH + offset * g3, lda: g3, c: dHidden + previous * h, ldc: h)
                    } else {
                        BLAS.gemm(m: rows, n: h, k: g3, a: dGatesH + offset * g3, lda: g3,
                                  b: weightHH, ldb: h, beta: 1, c: dHidden + previous * h, ldc: h)
                    }
                }
            }
        }
        // Parameter gradients, unless the caller asked for input gradients only.
        if let dWeightIH, let dWeightHH, let dBiasIH, let dBiasHH {
            batch.shiftToPreviousStep(hidden, width: h, into: previousHidden)
            RecurrentProduct.batchProduct(transA: true, m: g3, n: h, k: n, a: dGatesH, lda: g3,
                                          b: previousHidden, ldb: h, beta: 1, c: dWeightHH, ldc: h)
            RecurrentProduct.batchProduct(transA: true, m: g3, n: inputDim, k: n, a: dGatesX, lda: g3,
                                          b: x, ldb: inputDim, beta: 1, c: dWeightIH, ldc: inputDim)
            for r in 0..<n {
                let dx = dGatesX + r * g3, dh = dGatesH + r * g3
                for j in 0..<g3 { dBiasIH[j] += dx[j] }
                for j in 0..<g3 { dBiasHH[j] += dh[j] }
            }
        }
        if let dX = dX {
            RecurrentProduct.batchProduct(m: n, n: inputDim, k: g3, a: dGatesX, lda: g3,
                                          b: weightIH, ldb: inputDim, beta: 0, c: dX, ldc: inputDim)
        }
    }
}
