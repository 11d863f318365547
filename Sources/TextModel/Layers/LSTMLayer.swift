import CKernels

/// One LSTM layer over a PackedBatch (gate order i, f, g, o as in PyTorch).
///
/// Shapes (N packed rows, I input width, H hidden width):
///   x [N × I], weightIH [4H × I], weightHH [4H × H], bias [4H]
///   gates [N × 4H] (after activation), cells [N × H], hidden [N × H]
/// The input projection of all steps is one matrix product; only the recurrent product
/// runs step by step, on the rows still running, through RecurrentProduct (W_hh packed
/// once per pass; with the packed kernel fused with the gate math block by block of rows).
/// `packedScratch` [RecurrentProduct.scratchFloats(blocks: 4, …)] is where the pass packs
/// W_hh; without it a buffer is allocated for the call.
enum LSTMLayer {
    static func forward(x: UnsafePointer<Float>, inputDim: Int, hiddenDim: Int,
                        weightIH: UnsafePointer<Float>, weightHH: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                        batch: PackedBatch, gates: UnsafeMutablePointer<Float>,
                        cells: UnsafeMutablePointer<Float>, hidden: UnsafeMutablePointer<Float>) {
        InputProjection.compute(x: x, rows: batch.totalRows, inputDim: inputDim, weight: weightIH, bias: bias,
                                width: 4 * hiddenDim, into: gates)
        forward(projected: gates, hiddenDim: hiddenDim, weightHH: weightHH, batch: batch, cells: cells, hidden: hidden)
    }

    /// The steps after the input projection: `gates` holds W_ih x + b of every row on
    /// entry (from `forward(x:…)`), or, with `tableRows`, step t's rows gathered from an
    /// inference table just before the step reads them and the activated gates on return.
    static func forward(projected gates: UnsafeMutablePointer<Float>, hiddenDim: Int, weightHH: UnsafePointer<Float>,
                        batch: PackedBatch, cells: UnsafeMutablePointer<Float>, hidden: UnsafeMutablePointer<Float>,
                        tableRows: InputProjection.TableRows? = nil, initial: LSTMLayer.State? = nil,
                        packedScratch: UnsafeMutablePointer<Float>? = nil) {
        let h = hiddenDim, g4 = 4 * hiddenDim
        RecurrentProduct.withPanels(weightHH, blocks: 4, hiddenDim: h, forward: true, scratch: packedScratch) { panels in
            for t in 0..<batch.steps {
                tableRows?.gather(batch: batch, step: t, into: gates)
                let rows = batch.stepRows[t], offset = batch.stepOffsets[t]
                let previous = t > 0 ? batch.stepOffsets[t - 1] : 0
                let previousHidden: UnsafePointer<Float>? = t > 0 ? UnsafePointer(hidden + previous * h) : initial?.hidden
                let previousCells: UnsafePointer<Float>? = t > 0 ? UnsafePointer(cells + previous * h) : initial?.cells
                if let panels = panels {
                    // Product and gate math per block of rows, while the block is in L1.
                    panels.lstmStep(rows: rows, hiddenDim: h, previousHidden: previousHidden, gates: gates + offset * g4,
                                    cells: cells + offset * h, hidden: hidden + offset * h, previousCells: previousCells)
                    continue
                }
                if let previousHidden = previousHidden {
                    BLAS.gemm(transB: true, m: rows, n: g4, k: h, a: previousHidden, lda: h,
                              b: weightHH, ldb: h, beta: 1, c: gates + offset * g4, ldc: g4)
                }
                if LSTMLayer.avx2 {
                    tm_lstm_step_avx2(gates + offset * g4, cells + offset * h, hidden + offset * h, previousCells, rows, h)
                } else {
                    step(gates: gates + offset * g4, cells: cells + offset * h, hidden: hidden + offset * h,
                         previousCells: previousCells, rows: rows, hiddenDim: h)
                }
            }
        }
    }

    /// States a batch's sequences start from instead of zeros (occlusion continuing a
    /// text after its unchanged prefix): hidden and cells [B × H], sequence b in row b.
    struct State {
        let hidden: UnsafePointer<Float>
        let cells: UnsafePointer<Float>
    }

    /// Whether this CPU runs the AVX2 copy of `step` (CKernels), whose floats are the same.
    static let avx2 = tm_kernels_avx2() != 0

    /// One step's gates, cells and states for `rows` contiguous rows: gates [rows × 4H]
    /// pre-activations on entry, activations on return; previousCells [rows × H] is nil
    /// at the first step.
    static func step(gates: UnsafeMutablePointer<Float>, cells: UnsafeMutablePointer<Float>,
                     hidden: UnsafeMutablePointer<Float>, previousCells: UnsafePointer<Float>?,
                     rows: Int, hiddenDim h: Int) {
        let g4 = 4 * h
        for b in 0..<rows {
            let gate = gates + b * g4
            let c = cells + b * h
            let out = hidden + b * h
            sigmoidInPlace(gate, 2 * h)          // input and forget gates
            tanhInPlace(gate + 2 * h, h)         // candidate
            sigmoidInPlace(gate + 3 * h, h)      // output gate
            let i = gate, f = gate + h, g = gate + 2 * h, o = gate + 3 * h
            if let previousCells = previousCells {
                let cPrev = previousCells + b * h
                for j in 0..<h { c[j] = f[j] * cPrev[j] + i[j] * g[j] }
            } else {
                for j in 0..<h { c[j] = i[j] * g[j] }
            }
            for j in 0..<h { out[j] = o[j] * tanhFloat(c[j]) }
        }
    }

    /// One step of the backward pass for `rows` contiguous rows: gates [rows × 4H]
    /// activated, cells [rows × H], previousCells [rows × H] (nil at the first step: zeros),
    /// dHidden [rows × H]; carry [rows × H] is the cells' gradient from the step after on
    /// entry and goes to the step before on return; dGates [rows × 4H] gets the gradients
    /// of the pre-activations. CKernels has an AVX2 copy with the same floats.
    static func backwardStep(gates: UnsafePointer<Float>, cells: UnsafePointer<Float>, previousCells: UnsafePointer<Float>?,
                             dHidden: UnsafePointer<Float>, carry: UnsafeMutablePointer<Float>,
                             dGates: UnsafeMutablePointer<Float>, rows: Int, hiddenDim h: Int) {
        let g4 = 4 * h
        for b in 0..<rows {
            let gate = gates + b * g4, dGate = dGates + b * g4
            let c = cells + b * h, dh = dHidden + b * h, dc = carry + b * h
            let cPrev = previousCells.map { $0 + b * h }
            for j in 0..<h {
                let i = gate[j], f = gate[h + j], gg = gate[2 * h + j], o = gate[3 * h + j]
                let tc = tanhFloat(c[j])
                let dOut = dh[j]
                let dCell = dc[j] + dOut * o * (1 - tc * tc)
                let cp: Float = cPrev?[j] ?? 0
                dGate[j] = dCell * gg * i * (1 - i)
                dGate[h + j] = dCell * cp * f * (1 - f)
                dGate[2 * h + j] = dCell * i * (1 - gg * gg)
                dGate[3 * h + j] = dOut * tc * o * (1 - o)
                dc[j] = dCell * f
            }
        }
    }

    /// Backward pass. `dHidden` [N × H] holds the loss gradient with respect to every
    /// output row on entry and is used as scratch (recurrent gradients are added into it).
    /// Accumulates into dWeightIH, dWeightHH, dBias; writes dX [N × I] when given.
    /// Scratch: dGates [N × 4H], carry [B × H], previousHidden [N × H], zeros [H].
    static func backward(x: UnsafePointer<Float>, inputDim: Int, hiddenDim: Int,
                         weightIH: UnsafePointer<Float>, weightHH: UnsafePointer<Float>,
                         batch: PackedBatch, gates: UnsafePointer<Float>, cells: UnsafePointer<Float>,
                         hidden: UnsafePointer<Float>, dHidden: UnsafeMutablePointer<Float>,
                         dWeightIH: UnsafeMutablePointer<Float>?, dWeightHH: UnsafeMutablePointer<Float>?,
                         dBias: UnsafeMutablePointer<Float>?, dX: UnsafeMutablePointer<Float>?,
                         dGates: UnsafeMutablePointer<Float>, carry: UnsafeMutablePointer<Float>,
                         previousHidden: UnsafeMutablePointer<Float>, zeros: UnsafeMutablePointer<Float>,
                         packedScratch: UnsafeMutablePointer<Float>? = nil) {
        let h = hiddenDim, g4 = 4 * hiddenDim, n = batch.totalRows
        zeros.update(repeating: 0, count: h)
        carry.update(repeating: 0, count: batch.size * h)
        RecurrentProduct.withPanels(weightHH, blocks: 4, hiddenDim: h, forward: false, scratch: packedScratch) { panels in
            for t in stride(from: batch.steps - 1, through: 0, by: -1) {
                let rows = batch.stepRows[t], offset = batch.stepOffsets[t]
                let previous = t > 0 ? batch.stepOffsets[t - 1] : 0
                let previousCells: UnsafePointer<Float>? = t > 0 ? cells + previous * h : nil
                if LSTMLayer.avx2 {
                    tm_lstm_backward_step_avx2(gates + offset * g4, cells + offset * h, previousCells, dHidden + offset * h,
                                               carry, dGates + offset * g4, rows, h)
                } else {
                    backwardStep(gates: gates + offset * g4, cells: cells + offset * h, previousCells: previousCells,
                                 dHidden: dHidden + offset * h, carry: carry, dGates: dGates + offset * g4, rows: rows, hiddenDim: h)
                }
                if t > 0 {
                    // The previous step's states of these rows feed this step: pass gradients back.
                    if let panels = panels {
                        panels.multiplyAdd(m: rows, a: dGates + offset * g4, lda: g4, c: dHidden + previous * h, ldc: h)
                    } else {
                        BLAS.gemm(m: rows, n: h, k: g4, a: dGates + offset * g4, lda: g4,
                                  b: weightHH, ldb: h, beta: 1, c: dHidden + previous * h, ldc: h)
                    }
                }
            }
        }
        // Parameter gradients, unless the caller asked for input gradients only.
        if let dWeightIH, let dWeightHH, let dBias {
            batch.shiftToPreviousStep(hidden, width: h, into: previousHidden)
            RecurrentProduct.batchProduct(transA: true, m: g4, n: h, k: n, a: dGates, lda: g4,
                                          b: previousHidden, ldb: h, beta: 1, c: dWeightHH, ldc: h)
            RecurrentProduct.batchProduct(transA: true, m: g4, n: inputDim, k: n, a: dGates, lda: g4,
                                          b: x, ldb: inputDim, beta: 1, c: dWeightIH, ldc: inputDim)
            for r in 0..<n {
                let d = dGates + r * g4
                for j in 0..<g4 { dBias[j] += d[j] }
            }
        }
        if let dX = dX {
            RecurrentProduct.batchProduct(m: n, n: inputDim, k: g4, a: dGates, lda: g4,
                                          b: weightIH, ldb: inputDim, beta: 0, c: dX, ldc: inputDim)
        }
    }
}
