/// Occlusion of a unidirectional LSTM from the states before the occluded tokens.
///
/// Occluding tokens k..<k+w leaves every state before step k unchanged, so a variant
/// only needs the steps from k on, started from the text's states at step k − 1 (every
/// layer's h and c), and pooling continued from the prefix's running value (max: the
/// running maximum; mean: the running sum, divided by the whole length; last: the
/// suffix's last state). The sums and maxima run in the order the full pass runs them,
/// so the result is the full pass's to float rounding of the recurrent products.
extension RecurrentEncoder {
    /// Whether `forwardContinuing` applies: an LSTM read in one direction.
    var continuesSequences: Bool { cell == .lstm && directions == 1 }

    /// Layer l's states of the last forward pass: hidden and cells [N × H].
    func lstmStates(_ ws: Workspace, layer l: Int) -> LSTMLayer.State {
        let b = buffers.layers[l].directions[0]
        return LSTMLayer.State(hidden: ws[b.states], cells: ws[b.cells])
    }

    /// The top layer's states of the last forward pass [N × H].
    func topStates(_ ws: Workspace) -> UnsafePointer<Float> { UnsafePointer(ws[buffers.layers[layers - 1].directions[0].states]) }

    /// Runs the batch in `pass.batch` (each sequence a text's tokens from some step on) at
    /// inference from `table`, layer l's sequences starting from `initial[l]` ([B × H]
    /// each), and pools into features [B × H] continuing `prefix` [B × H] (max: the
    /// prefix's running maximum, or ignored where `hasPrefix[b]` is false; mean: its running
    /// sum, zeros when empty; last: unused) over texts of `lengths[b]` tokens in all.
    func forwardContinuing(_ pass: Pass, table: InputProjectionTable, initial: [LSTMLayer.State],
                           prefix: UnsafePointer<Float>, hasPrefix: [Bool], lengths: [Int],
                           features: UnsafeMutablePointer<Float>) {
        let ws = pass.workspace, batch = pass.batch, h = hiddenDim
        for l in 0..<layers {
            if l == 0 {
                cellForward(pass, 0, 0, input: .table(table.direction(0), reversed: false), initial: initial[0])
            } else {
                cellForward(pass, l, 0, input: .rows(layerInput(l, ws, dropping: false), width: h), initial: initial[l])
            }
        }
        let states = topStates(ws)
        for b in 0..<batch.size {
            let out = features + b * h, steps = batch.lengths[b]
            switch pooling {
            case .last:
                if steps > 0 { out.update(from: states + batch.lastRows[b] * h, count: h) } else { out.update(repeating: 0, count: h) }
            case .mean:
                out.update(from: prefix + b * h, count: h)
                for t in 0..<steps {
                    let row = states + (batch.stepOffsets[t] + b) * h
                    for j in 0..<h { out[j] += row[j] }
                }
                let scale = 1 / Float(max(lengths[b], 1))
                for j in 0..<h { out[j] *= scale }
            case .max:
                var first = 0
                if hasPrefix[b] {
                    out.update(from: prefix + b * h, count: h)
                } else if steps > 0 {
                    out.update(from: states + (batch.stepOffsets[0] + b) * h, count: h)
                    first = 1
                } else {
                    out.update(repeating: 0, count: h)
                }
                for t in first..<max(steps, first) {
                    let row = states + (batch.stepOffsets[t] + b) * h
                    for j in 0..<h where row[j] > out[j] { out[j] = row[j] }
                }
            }
        }
    }

    /// Running pooled values of the top layer's states for sequence b of the last
    /// forward pass, after each step [length × H] into `out` (max: running maximum;
    /// mean: running sum; last: the state itself).
    func runningPooled(_ ws: Workspace, batch: PackedBatch, sequence b: Int, into out: UnsafeMutablePointer<Float>) {
        let h = hiddenDim, states = topStates(ws)
        for t in 0..<batch.lengths[b] {
            let row = states + (batch.stepOffsets[t] + b) * h, o = out + t * h
            if t == 0 || pooling == .last {
                o.update(from: row, count: h)
                continue
            }
            let before = o - h
            switch pooling {
            case .last: break
            case .mean: for j in 0..<h { o[j] = before[j] + row[j] }
            case .max: for j in 0..<h { o[j] = row[j] > before[j] ? row[j] : before[j] }
            }
        }
    }
}
