#if canImport(Glibc)
import Glibc
#endif

/// The cell a RecurrentNetwork runs, named as `model.type` names it.
enum RecurrentCell: String, CaseIterable {
    /// LSTMLayer: gates i, f, g, o.
    case lstm
    /// GRULayer: gates r, z, n.
    case gru
    /// RNNLayer: h' = tanh(W_ih x + W_hh h + b).
    case rnn

    /// Blocks of H rows in weight_ih and weight_hh (one per gate or candidate).
    var blocks: Int {
        switch self {
        case .lstm: return 4
        case .gru: return 3
        case .rnn: return 1
        }
    }

    /// Bias tensors of one direction. GRU keeps PyTorch's two, since b_hn is scaled by r;
    /// in the others one bias stands for b_ih + b_hh.
    var biasNames: [String] { self == .gru ? ["bias_ih", "bias_hh"] : ["bias"] }
}

/// Embedding → recurrent layers (LSTM, GRU or plain RNN; stacked, optionally
/// bidirectional, with optional dropout) → pooling over time → Linear → softmax.
///
/// All weights live in one flat buffer described by `layout` (W = H·directions is the
/// width of a layer's output, L the layer, `cell` "lstm", "gru" or "rnn"):
///   embedding.weight [V × E]
///   cell.L.weight_ih [blocks·H × (E or W)], cell.L.weight_hh [blocks·H × H],
///   cell.L.bias [blocks·H] (GRU: cell.L.bias_ih and cell.L.bias_hh [3H])
///   with `bidirectional`, the same again as cell.L.reverse.… after each layer's forward tensors
///   output.weight [C × W], output.bias [C]
/// A unidirectional LSTM keeps the names and order of the original LSTM network, so its
/// model files load unchanged.
///
/// The reverse direction of a layer reads each text backwards, over its own length: its
/// input rows are gathered into the reversed packed order (ReversedRows; same lengths,
/// same layout, no padding), and its outputs scattered back, so that row (t, b) of the
/// layer's output [N × W] holds both directions' states at token t. That output is the
/// next layer's input. Pooling reads each direction in its own order, so `last` pooling
/// takes each direction's final state (the reverse one after the text's first token).
///
/// Dropout (rate `dropout`, inverted) applies while `workspace.training` is true, to the
/// embeddings and to the output of every layer but the last; masks come from
/// `workspace.rng` in a fixed order (embeddings, then layers bottom up).
///
/// The network itself holds no mutable state; per-call buffers live in a Workspace, so
/// one network and one parameter buffer serve many threads at once.
struct RecurrentNetwork: TextNetwork {
    let cell: RecurrentCell
    let vocabSize: Int
    let embeddingDim: Int
    let hiddenDim: Int
    let layers: Int
    /// 2 when bidirectional, else 1.
    let directions: Int
    let dropout: Float
    let pooling: SequencePooling
    let classes: Int
    let head: OutputHead
    let layout: ParameterLayout

    /// Width of a layer's output (both directions side by side), of the pooled vector
    /// and of the input of every layer but the first.
    var outputDim: Int { hiddenDim * directions }

    private struct DirectionTensors {
        let weightIH: ParameterLayout.Tensor
        let weightHH: ParameterLayout.Tensor
        let biases: [ParameterLayout.Tensor]
    }

    private let embedding: ParameterLayout.Tensor
    /// [layer][direction]
    private let recurrent: [[DirectionTensors]]
    private let outputWeight: ParameterLayout.Tensor
    private let outputBias: ParameterLayout.Tensor

    /// The cell is the one `config.type` names (makeNetwork builds this network for the
    /// recurrent types only).
    init(vocabSize: Int, classes: Int, config: Config.Model) {
        guard let cell = config.type.recurrentCell else { preconditionFailure("RecurrentNetwork for model.type \(config.type.rawValue)") }
        self.cell = cell
        self.vocabSize = vocabSize
        self.classes = classes
        head = OutputHead(task: config.task)
        embeddingDim = config.embeddingDim
        hiddenDim = config.hiddenDim
        layers = config.layers
        directions = config.bidirectional ? 2 : 1
        dropout = Float(config.dropout)
        pooling = config.pooling
        var layout = ParameterLayout()
        embedding = layout.add("embedding.weight", [vocabSize, embeddingDim])
        let rows = cell.blocks * hiddenDim
        var recurrent = [[DirectionTensors]]()
        for l in 0..<layers {
            var both = [DirectionTensors]()
            for d in 0..<directions {
                let prefix = "\(cell.rawValue).\(l)" + (d == 1 ? ".reverse" : "")
                let ih = layout.add("\(prefix).weight_ih", [rows, l == 0 ? embeddingDim : hiddenDim * directions])
                let hh = layout.add("\(prefix).weight_hh", [rows, hiddenDim])
                let biases = cell.biasNames.map { layout.add("\(prefix).\($0)", [rows]) }
                both.append(DirectionTensors(weightIH: ih, weightHH: hh, biases: biases))
            }
            recurrent.append(both)
        }
        self.recurrent = recurrent
        outputWeight = layout.add("output.weight", [classes, hiddenDim * directions])
        outputBias = layout.add("output.bias", [classes])
        self.layout = layout
    }

    var embeddingTensor: ParameterLayout.Tensor { embedding }

    /// Initial weights as PyTorch's defaults draw them (embeddings N(0, 1); recurrent
    /// weights and biases U(-1/√H, 1/√H); output weights and bias U(-1/√W, 1/√W)), except
    /// that each LSTM forget-gate bias starts 1 higher, so cells keep their state early in
    /// training (Jozefowicz et al., 2015); on the tweets corpus this raised test accuracy
    /// for two seeds out of three.
    func initialize(_ params: UnsafeMutablePointer<Float>, rng: inout SeededGenerator) {
        let e = params + embedding.offset
        var i = 0
        while i < embedding.count {
            // Box-Muller: two normals from two uniforms.
            let u1 = max(rng.uniform(0, 1), 1e-12), u2 = rng.uniform(0, 1)
            let radius = sqrtf(-2 * logf(u1))
            e[i] = radius * cosf(2 * .pi * u2)
            if i + 1 < embedding.count { e[i + 1] = radius * sinf(2 * .pi * u2) }
            i += 2
        }
        let bound = 1 / Float(hiddenDim).squareRoot()
        for direction in recurrent.joined() {
            for t in [direction.weightIH, direction.weightHH] + direction.biases {
                for k in 0..<t.count { params[t.offset + k] = rng.uniform(-bound, bound) }
            }
            if cell == .lstm {
                for j in hiddenDim..<(2 * hiddenDim) { params[direction.biases[0].offset + j] += 1 }
            }
        }
        let outBound = 1 / Float(outputDim).squareRoot()
        for t in [outputWeight, outputBias] {
            for k in 0..<t.count { params[t.offset + k] = rng.uniform(-outBound, outBound) }
        }
    }

    /// Bytes of activations and scratch a batch of `rows` packed tokens and `size` texts needs.
    func workspaceBytes(rows: Int, size: Int) -> Int {
        let h = hiddenDim, e = embeddingDim, w = outputDim, widest = max(e, w)
        let kept: Int   // activations one direction of one layer keeps for the backward pass
        switch cell {
        case .lstm: kept = 6 * h
        case .gru: kept = 7 * h
        case .rnn: kept = h
        }
        var floats = rows * e * (dropout > 0 ? 2 : 1)
        floats += layers * rows * (directions * kept + (directions == 2 ? widest : 0) + (directions == 2 || dropout > 0 ? 2 * w : 0))
        floats += rows * (3 * widest + directions * h + 2 * cell.blocks * h + h) + size * h + h
        floats += size * (3 * w + 3 * classes)
        return 4 * floats
    }

    // MARK: workspace buffers

    /// Workspace extras (Workspace.extra) this network uses, with their shapes:
    private enum Slot {
        /// [N × E] dropout mask of the embeddings.
        static let embeddingMask = 0
        /// [N × max(E, W)] each: the gradients of a layer's output and of its input (backward).
        static let gradientA = 1, gradientB = 2
        /// 3 + d: [N × H] gradient of direction d's states (backward, used as scratch).
        static let dHidden = 3
        /// Cell backward scratch: dGates [N × blocks·H]; LSTM carry [B × H] or GRU
        /// dGatesH [N × 3H]; previousHidden [N × H]; zeros [H].
        static let dGates = 5, dGatesAux = 6, previousHidden = 7, zeros = 8
        /// [N × I] the reverse direction's input gradient, in reversed row order (backward).
        static let dReversedInput = 9
        /// [2 × B × H] per-direction pooled vectors, then their gradients (bidirectional).
        static let pooledParts = 10

        private static let firstLayer = 11, perLayer = 9
        /// [N × W] layer l's output when it is not direction 0's states themselves: both
        /// directions side by side, after dropout.
        static func output(_ l: Int) -> Int { firstLayer + perLayer * l }
        /// [N × W] its dropout mask.
        static func outputMask(_ l: Int) -> Int { firstLayer + perLayer * l + 1 }
        /// [N × I] layer l's input in reversed row order, read by its reverse direction.
        static func reversedInput(_ l: Int) -> Int { firstLayer + perLayer * l + 2 }
        /// Activations of layer l, direction d, kept for the backward pass:
        ///   0 gates (LSTM [N × 4H], GRU [N × 3H]); 1 LSTM cells [N × H] or GRU recurrent
        ///   [N × 3H]; 2 states [N × H] (the only one a plain RNN uses).
        static func activation(_ l: Int, _ d: Int, _ k: Int) -> Int { firstLayer + perLayer * l + 3 + 3 * d + k }
    }

    /// Input of layer l (rows in forward order): the embeddings, the layer below's own
    /// states when that is all its output is, or its assembled output.
    private func layerInput(_ l: Int, _ ws: Workspace, dropping: Bool) -> UnsafeMutablePointer<Float> {
        if l == 0 { return ws.embedded.pointer }
        if directions == 1 && !dropping { return ws.extra(Slot.activation(l - 1, 0, 2)).pointer }
        return ws.extra(Slot.output(l - 1)).pointer
    }

    // MARK: forward

    /// Computes class probabilities for a packed batch into `workspace.probs` [B × C].
    func forward(_ params: UnsafePointer<Float>, batch: PackedBatch, workspace ws: Workspace) {
        forward(params, batch: batch, workspace: ws, inputTable: nil)
    }

    /// `forward`, with the first layer's input projections gathered from `inputTable`
    /// when there is one (then the embeddings are not looked up at all). Training never
    /// uses it: its weights change, and dropout applies to the embeddings themselves.
    func forward(_ params: UnsafePointer<Float>, batch: PackedBatch, workspace ws: Workspace,
                 inputTable: InputProjectionTable?) {
        let n = batch.totalRows, size = batch.size, h = hiddenDim, e = embeddingDim, w = outputDim
        let dropping = ws.training && dropout > 0
        var table: InputProjectionTable? = nil
        if !ws.training, let t = inputTable, t.rows == vocabSize, t.width == cell.blocks * h { table = t }
        if table == nil {
            let embedded = ws.embedded.reserve(n * e)
            batch.tokens.withUnsafeBufferPointer { ids in
                if let base = ids.baseAddress {
                    Embedding.forward(table: params + embedding.offset, dim: e, ids: base, count: n, out: embedded)
                }
            }
            if dropping {
                Dropout.forward(embedded, count: n * e, rate: dropout, mask: ws.extra(Slot.embeddingMask).reserve(n * e), rng: &ws.rng)
            }
        }
        for l in 0..<layers {
            let x = layerInput(l, ws, dropping: dropping), inputDim = l == 0 ? e : w
            for d in 0..<directions {
                if l == 0, let table = table {
                    cellForward(params, recurrent[l][d], input: .table(table.direction(d), reversed: d == 1),
                                batch: batch, ws: ws, layer: l, direction: d)
                    continue
                }
                var input = UnsafePointer(x)
                if d == 1 {
                    let reversed = ws.extra(Slot.reversedInput(l)).reserve(n * inputDim)
                    ReversedRows.copy(from: x, stride: inputDim, to: reversed, stride: inputDim, width: inputDim, batch: batch)
                    input = UnsafePointer(reversed)
                }
                cellForward(params, recurrent[l][d], input: .rows(input, width: inputDim), batch: batch, ws: ws, layer: l, direction: d)
            }
            if l < layers - 1 && (directions == 2 || dropping) {
                let out = ws.extra(Slot.output(l)).reserve(n * w)
                let forwardStates = ws.extra(Slot.activation(l, 0, 2)).pointer
                for r in 0..<n { (out + r * w).update(from: forwardStates + r * h, count: h) }
                if directions == 2 {
                    ReversedRows.copy(from: ws.extra(Slot.activation(l, 1, 2)).pointer, stride: h,
                                      to: out + h, stride: w, width: h, batch: batch)
                }
                if dropping {
                    Dropout.forward(out, count: n * w, rate: dropout, mask: ws.extra(Slot.outputMask(l)).reserve(n * w), rng: &ws.rng)
                }
            }
        }
        let top = layers - 1
        let pooled = ws.pooled.reserve(size * w), argmax = ws.poolArgmax.reserve(size * w)
        if directions == 1 {
            pooling.forward(hidden: ws.extra(Slot.activation(top, 0, 2)).pointer, width: h, batch: batch,
                            pooled: pooled, argmax: argmax)
        } else {
            let parts = ws.extra(Slot.pooledParts).reserve(2 * size * h)
            for d in 0..<2 {
                pooling.forward(hidden: ws.extra(Slot.activation(top, d, 2)).pointer, width: h, batch: batch,
                                pooled: parts + d * size * h, argmax: argmax + d * size * h)
            }
            for b in 0..<size {
                for d in 0..<2 { (pooled + b * w + d * h).update(from: parts + (d * size + b) * h, count: h) }
            }
        }
        Linear.forward(x: pooled, rows: size, inputDim: w, outputDim: classes,
                       weight: params + outputWeight.offset, bias: params + outputBias.offset, out: ws.logits.reserve(size * classes))
        head.activate(logits: ws.logits.pointer, rows: size, width: classes, outputs: ws.probs.reserve(size * classes))
    }

    /// Where a direction's input projections W_ih x + b come from: its input rows,
    /// projected here, or an inference table, gathered by token.
    private enum CellInput {
        case rows(UnsafePointer<Float>, width: Int)
        case table(UnsafePointer<Float>, reversed: Bool)
    }

    /// One direction of one layer, its activations into that direction's workspace buffers.
    private func cellForward(_ params: UnsafePointer<Float>, _ t: DirectionTensors, input: CellInput,
                             batch: PackedBatch, ws: Workspace, layer l: Int, direction d: Int) {
        let n = batch.totalRows, h = hiddenDim, width = cell.blocks * h
        let hidden = ws.extra(Slot.activation(l, d, 2)).reserve(n * h)
        // LSTM and GRU keep the projections in their gates; a plain RNN in its states.
        let projected = cell == .rnn ? hidden : ws.extra(Slot.activation(l, d, 0)).reserve(n * width)
        var gather: InputProjection.TableRows? = nil
        switch input {
        case let .rows(x, inputDim):
            InputProjection.compute(x: x, rows: n, inputDim: inputDim, weight: params + t.weightIH.offset,
                                    bias: params + t.biases[0].offset, width: width, into: projected)
        case let .table(table, reversed):
            gather = InputProjection.TableRows(table: table, width: width, reversed: reversed)
        }
        switch cell {
        case .lstm:
            LSTMLayer.forward(projected: projected, hiddenDim: h, weightHH: params + t.weightHH.offset, batch: batch,
                              cells: ws.extra(Slot.activation(l, d, 1)).reserve(n * h), hidden: hidden, tableRows: gather)
        case .gru:
            GRULayer.forward(projected: projected, hiddenDim: h, weightHH: params + t.weightHH.offset,
                             biasHH: params + t.biases[1].offset, batch: batch,
                             recurrent: ws.extra(Slot.activation(l, d, 1)).reserve(n * 3 * h), hidden: hidden, tableRows: gather)
        case .rnn:
            RNNLayer.forward(projected: projected, hiddenDim: h, weightHH: params + t.weightHH.offset, batch: batch,
                             tableRows: gather)
        }
    }

    // MARK: inference table

    /// One table per direction of the first layer, over the whole vocabulary.
    var inputTableShape: InputTableShape? {
        InputTableShape(rows: vocabSize, width: cell.blocks * hiddenDim, directions: directions)
    }

    /// Table rows `words` of direction d: the projection cellForward would compute for
    /// those embedding rows, by the same call.
    func fillInputTable(_ params: UnsafePointer<Float>, direction d: Int, words: Range<Int>,
                        into table: UnsafeMutablePointer<Float>) {
        guard d >= 0, d < directions, words.lowerBound >= 0, words.upperBound <= vocabSize else { return }
        let t = recurrent[0][d], e = embeddingDim, width = cell.blocks * hiddenDim
        InputProjection.compute(x: params + embedding.offset + words.lowerBound * e, rows: words.count, inputDim: e,
                                weight: params + t.weightIH.offset, bias: params + t.biases[0].offset, width: width,
                                into: table + words.lowerBound * width)
    }

    // MARK: backward

    /// Backward pass after `forward` on the same batch and workspace (with the same
    /// `workspace.training`, which decides whether dropout masks apply). Adds the gradient
    /// of the batch's loss into `grads` (same layout as the parameters).
    func backward(_ params: UnsafePointer<Float>, batch: PackedBatch, loss: LossTargets,
                  workspace ws: Workspace, grads: UnsafeMutablePointer<Float>) {
        let n = batch.totalRows, size = batch.size, h = hiddenDim, e = embeddingDim, w = outputDim
        let dropping = ws.training && dropout > 0
        let dLogits = ws.dLogits.reserve(size * classes), dPooled = ws.dPooled.reserve(size * w)
        head.backward(outputs: ws.probs.pointer, rows: size, width: classes, targets: loss, dLogits: dLogits)
        Linear.backward(dOut: dLogits, x: ws.pooled.pointer, rows: size, inputDim: w, outputDim: classes,
                        weight: params + outputWeight.offset, dWeight: grads + outputWeight.offset,
                        dBias: grads + outputBias.offset, dx: dPooled)
        // The top layer's states get gradients from the pooling only.
        let top = layers - 1
        for d in 0..<directions {
            let dHidden = ws.extra(Slot.dHidden + d).reserve(n * h)
            dHidden.update(repeating: 0, count: n * h)
            var dPart = UnsafePointer(dPooled)
            if directions == 2 {
                let part = ws.extra(Slot.pooledParts).reserve(2 * size * h) + d * size * h
                for b in 0..<size { (part + b * h).update(from: dPooled + b * w + d * h, count: h) }
                dPart = UnsafePointer(part)
            }
            pooling.backward(dPooled: dPart, width: h, batch: batch, argmax: ws.poolArgmax.pointer + d * size * h, dHidden: dHidden)
        }
        // Gradients of a layer's output and of its input swap roles going down.
        var dOutput = ws.extra(Slot.gradientA), dInput = ws.extra(Slot.gradientB)
        for l in stride(from: top, through: 0, by: -1) {
            let inputDim = l == 0 ? e : w
            if l < top {
                // dOutput [N × W]: split into the directions, each in its own row order.
                let forwardPart = ws.extra(Slot.dHidden).reserve(n * h)
                for r in 0..<n { (forwardPart + r * h).update(from: dOutput.pointer + r * w, count: h) }
                if directions == 2 {
                    ReversedRows.copy(from: dOutput.pointer + h, stride: w, to: ws.extra(Slot.dHidden + 1).reserve(n * h),
                                      stride: h, width: h, batch: batch)
                }
            }
            let x = layerInput(l, ws, dropping: dropping)
            let dX = dInput.reserve(n * max(e, w))
            for d in 0..<directions {
                let dHidden = ws.extra(Slot.dHidden + d).pointer
                if d == 0 {
                    cellBackward(params, recurrent[l][d], x: x, inputDim: inputDim, batch: batch, ws: ws, layer: l, direction: d,
                                 dHidden: dHidden, dX: dX, grads: grads)
                } else {
                    let dReversed = ws.extra(Slot.dReversedInput).reserve(n * inputDim)
                    cellBackward(params, recurrent[l][d], x: ws.extra(Slot.reversedInput(l)).pointer, inputDim: inputDim,
                                 batch: batch, ws: ws, layer: l, direction: d, dHidden: dHidden, dX: dReversed, grads: grads)
                    ReversedRows.copy(from: dReversed, stride: inputDim, to: dX, stride: inputDim, width: inputDim,
                                      batch: batch, accumulate: true)
                }
            }
            if dropping {
                let mask = ws.extra(l == 0 ? Slot.embeddingMask : Slot.outputMask(l - 1)).pointer
                Dropout.backward(dX, count: n * inputDim, mask: mask)
            }
            swap(&dOutput, &dInput)
        }
        // After the last swap dOutput holds the gradient of the embeddings.
        batch.tokens.withUnsafeBufferPointer { ids in
            if let base = ids.baseAddress {
                Embedding.backward(dOut: dOutput.pointer, dim: e, ids: base, count: n, dTable: grads + embedding.offset)
            }
        }
    }

    /// Backward pass of one direction of one layer; writes dX [N × I] in that direction's row order.
    private func cellBackward(_ params: UnsafePointer<Float>, _ t: DirectionTensors, x: UnsafePointer<Float>, inputDim: Int,
                              batch: PackedBatch, ws: Workspace, layer l: Int, direction d: Int,
                              dHidden: UnsafeMutablePointer<Float>, dX: UnsafeMutablePointer<Float>,
                              grads: UnsafeMutablePointer<Float>) {
        let n = batch.totalRows, h = hiddenDim
        let hidden = ws.extra(Slot.activation(l, d, 2)).pointer
        let previousHidden = ws.extra(Slot.previousHidden).reserve(n * h)
        switch cell {
        case .lstm:
            LSTMLayer.backward(x: x, inputDim: inputDim, hiddenDim: h, weightIH: params + t.weightIH.offset,
                               weightHH: params + t.weightHH.offset, batch: batch,
                               gates: ws.extra(Slot.activation(l, d, 0)).pointer, cells: ws.extra(Slot.activation(l, d, 1)).pointer,
                               hidden: hidden, dHidden: dHidden, dWeightIH: grads + t.weightIH.offset,
                               dWeightHH: grads + t.weightHH.offset, dBias: grads + t.biases[0].offset, dX: dX,
                               dGates: ws.extra(Slot.dGates).reserve(n * 4 * h), carry: ws.extra(Slot.dGatesAux).reserve(batch.size * h),
                               previousHidden: previousHidden, zeros: ws.extra(Slot.zeros).reserve(h))
        case .gru:
            GRULayer.backward(x: x, inputDim: inputDim, hiddenDim: h, weightIH: params + t.weightIH.offset,
                              weightHH: params + t.weightHH.offset, batch: batch,
                              gates: ws.extra(Slot.activation(l, d, 0)).pointer,
                              recurrent: ws.extra(Slot.activation(l, d, 1)).pointer,
                              hidden: hidden, dHidden: dHidden, dWeightIH: grads + t.weightIH.offset,
                              dWeightHH: grads + t.weightHH.offset, dBiasIH: grads + t.biases[0].offset,
                              dBiasHH: grads + t.biases[1].offset, dX: dX,
                              dGatesX: ws.extra(Slot.dGates).reserve(n * 3 * h), dGatesH: ws.extra(Slot.dGatesAux).reserve(n * 3 * h),
                              previousHidden: previousHidden, zeros: ws.extra(Slot.zeros).reserve(h))
        case .rnn:
            RNNLayer.backward(x: x, inputDim: inputDim, hiddenDim: h, weightIH: params + t.weightIH.offset,
                              weightHH: params + t.weightHH.offset, batch: batch, hidden: hidden, dHidden: dHidden,
                              dWeightIH: grads + t.weightIH.offset, dWeightHH: grads + t.weightHH.offset,
                              dBias: grads + t.biases[0].offset, dX: dX,
                              dPre: ws.extra(Slot.dGates).reserve(n * h), previousHidden: previousHidden)
        }
    }
}

/// Row (t, b) of a packed batch holds token t of text b; in the batch of the same texts
/// each read backwards, that row holds token L_b − 1 − t. Both batches have the same
/// lengths and so the same layout (no padding either way), and mapping rows between
/// them is its own inverse: one copy gathers a matrix into reversed order or scatters it back.
enum ReversedRows {
    /// Row (t, b) of `destination` = row (L_b − 1 − t, b) of `source` (added to it when
    /// `accumulate`), `width` floats per row; strides are the distances between rows.
    static func copy(from source: UnsafePointer<Float>, stride sourceStride: Int,
                     to destination: UnsafeMutablePointer<Float>, stride destinationStride: Int,
                     width: Int, batch: PackedBatch, accumulate: Bool = false) {
        let offsets = batch.stepOffsets, lengths = batch.lengths
        for b in 0..<lengths.count {
            let length = lengths[b]
            for t in 0..<length {
                let from = source + (offsets[length - 1 - t] + b) * sourceStride
                let to = destination + (offsets[t] + b) * destinationStride
                if accumulate {
                    for j in 0..<width { to[j] += from[j] }
                } else {
                    to.update(from: from, count: width)
                }
            }
        }
    }
}
