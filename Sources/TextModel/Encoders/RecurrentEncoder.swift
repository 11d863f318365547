#if canImport(Glibc)
import Glibc
#endif

/// The cell a RecurrentEncoder runs, named as `model.type` names it.
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

/// Recurrent layers (LSTM, GRU or plain RNN; stacked, optionally bidirectional, with
/// optional dropout) → pooling over time (last, mean or max).
///
/// Tensors (W = H·directions is the width of a layer's output, L the layer, `cell`
/// "lstm", "gru" or "rnn"):
///   cell.L.weight_ih [blocks·H × (E or W)], cell.L.weight_hh [blocks·H × H],
///   cell.L.bias [blocks·H] (GRU: cell.L.bias_ih and cell.L.bias_hh [3H])
///   with `bidirectional`, the same again as cell.L.reverse.… after each layer's forward tensors
///
/// The reverse direction of a layer reads each text backwards, over its own length: its
/// input rows are gathered into the reversed packed order (ReversedRows; same lengths,
/// same layout, no padding), and its outputs scattered back, so that row (t, b) of the
/// layer's output [N × W] holds both directions' states at token t. That output is the
/// next layer's input. Pooling reads each direction in its own order, so `last` pooling
/// takes each direction's final state (the reverse one after the text's first token).
///
/// Dropout (rate `dropout`, inverted) applies while training, to the embeddings and to
/// the output of every layer but the last; masks come from the workspace's generator in a
/// fixed order (embeddings, then layers bottom up).
///
/// Initialization as PyTorch's defaults (embeddings N(0, 1); recurrent weights and biases
/// U(−1/√H, 1/√H); output U(−1/√W, 1/√W)), except that each LSTM forget-gate bias starts
/// 1 higher, so cells keep their state early in training (Jozefowicz et al., 2015).
struct RecurrentEncoder: Encoder {
    let cell: RecurrentCell
    let inputDim: Int
    let hiddenDim: Int
    let layers: Int
    /// 2 when bidirectional, else 1.
    let directions: Int
    let dropout: Float
    let pooling: SequencePooling
    var embeddingInitialization: EmbeddingInitialization { .normal(1) }
    var outputInitialization: OutputInitialization { .fanIn }

    /// Width of a layer's output (both directions side by side), of the features and of
    /// the input of every layer but the first.
    var featureDim: Int { hiddenDim * directions }

    struct DirectionTensors {
        let weightIH: ParameterLayout.Tensor
        let weightHH: ParameterLayout.Tensor
        let biases: [ParameterLayout.Tensor]
    }
    /// [layer][direction]
    let recurrent: [[DirectionTensors]]

    /// Activations one direction of one layer keeps for the backward pass.
    struct DirectionBuffers {
        /// LSTM [N × 4H], GRU [N × 3H] activated gates; unused by a plain RNN.
        let gates: ActivationPlan.Floats
        /// LSTM cells [N × H] or GRU recurrent products [N × 3H]; unused by a plain RNN.
        let cells: ActivationPlan.Floats
        /// States [N × H].
        let states: ActivationPlan.Floats
    }
    struct LayerBuffers {
        /// [N × W] the layer's output when it is not direction 0's states themselves:
        /// both directions side by side, after dropout; and its dropout mask.
        let output, outputMask: ActivationPlan.Floats
        /// [N × I] the layer's input in reversed row order, read by its reverse direction.
        let reversedInput: ActivationPlan.Floats
        let directions: [DirectionBuffers]
    }
    struct Buffers {
        /// [N × E] dropout mask of the embeddings.
        let embeddingMask: ActivationPlan.Floats
        /// [B × W] argmax rows of max pooling.
        let argmax: ActivationPlan.Indices
        /// [N × W] the gradient of a layer's output and of its input (backward).
        let gradientA, gradientB: ActivationPlan.Floats
        /// [N × H] the gradient of each direction's states (backward, used as scratch).
        let dHidden: [ActivationPlan.Floats]
        /// Cell backward scratch: dGates [N × blocks·H]; LSTM carry [B × H] or GRU
        /// dGatesH [N × 3H]; previousHidden [N × H]; zeros [H].
        let dGates, dGatesAux, previousHidden, zeros: ActivationPlan.Floats
        /// [N × I] the reverse direction's input gradient, in reversed row order.
        let dReversedInput: ActivationPlan.Floats
        /// [2 × B × H] per-direction pooled vectors, then their gradients (bidirectional).
        let pooledParts: ActivationPlan.Floats
        /// W_hh of the layer and direction running, packed for the step products
        /// (RecurrentProduct; one pass at a time, so one buffer serves them all; empty
        /// without the packed kernel).
        let packedWeights: ActivationPlan.Floats
        let layers: [LayerBuffers]
    }
    let buffers: Buffers

    init(cell: RecurrentCell, inputDim e: Int, hiddenDim h: Int, layers: Int, bidirectional: Bool, dropout: Double,
         pooling: SequencePooling, layout: inout ParameterLayout, plan: inout ActivationPlan) {
        self.cell = cell
        inputDim = e
        hiddenDim = h
        self.layers = layers
        let directions = bidirectional ? 2 : 1
        self.directions = directions
        self.dropout = Float(dropout)
        self.pooling = pooling
        let rows = cell.blocks * h, w = h * directions, widest = max(e, w)
        var recurrent = [[DirectionTensors]]()
        for l in 0..<layers {
            var both = [DirectionTensors]()
            for d in 0..<directions {
                let prefix = "\(cell.rawValue).\(l)" + (d == 1 ? ".reverse" : "")
                let ih = layout.add("\(prefix).weight_ih", [rows, l == 0 ? e : w])
                let hh = layout.add("\(prefix).weight_hh", [rows, h])
                let biases = cell.biasNames.map { layout.add("\(prefix).\($0)", [rows]) }
                both.append(DirectionTensors(weightIH: ih, weightHH: hh, biases: biases))
            }
            recurrent.append(both)
        }
        self.recurrent = recurrent

        // Buffers the configuration never reads are declared with size 0.
        let dropping = dropout > 0, bi = directions == 2
        let gatesWidth = cell == .rnn ? 0 : rows
        let cellsWidth: Int
        switch cell {
        case .lstm: cellsWidth = h
        case .gru: cellsWidth = 3 * h
        case .rnn: cellsWidth = 0
        }
        let layerBuffers = (0..<layers).map { l -> LayerBuffers in
            let assembled = l < layers - 1 && (bi || dropping)
            let inputWidth = l == 0 ? e : w
            return LayerBuffers(
                output: plan.floats("\(cell.rawValue) layer \(l) output") { assembled ? $0.rows * w : 0 },
                outputMask: plan.floats("\(cell.rawValue) layer \(l) dropout mask") { assembled && dropping ? $0.rows * w : 0 },
                reversedInput: plan.floats("\(cell.rawValue) layer \(l) reversed input") { bi ? $0.rows * inputWidth : 0 },
                directions: (0..<directions).map { d in
                    DirectionBuffers(
                        gates: plan.floats("\(cell.rawValue) \(l).\(d) gates") { $0.rows * gatesWidth },
                        cells: plan.floats("\(cell.rawValue) \(l).\(d) cells") { $0.rows * cellsWidth },
                        states: plan.floats("\(cell.rawValue) \(l).\(d) states") { $0.rows * h })
                })
        }
        let auxWidth = cell == .gru ? 3 * h : 0
        buffers = Buffers(
            embeddingMask: plan.floats("\(cell.rawValue) embedding dropout mask") { dropping ? $0.rows * e : 0 },
            argmax: plan.indices("\(cell.rawValue) max-pooling rows") { pooling == .max ? $0.texts * w : 0 },
            gradientA: plan.floats("\(cell.rawValue) layer output gradient") { layers > 1 ? $0.rows * w : 0 },
            gradientB: plan.floats("\(cell.rawValue) layer input gradient") { layers > 1 ? $0.rows * w : 0 },
            dHidden: (0..<directions).map { d in plan.floats("\(cell.rawValue) state gradient \(d)") { $0.rows * h } },
            dGates: plan.floats("\(cell.rawValue) gate gradient") { $0.rows * rows },
            dGatesAux: plan.floats("\(cell.rawValue) carry / recurrent gate gradient") {
                cell == .lstm ? $0.texts * h : $0.rows * auxWidth
            },
            previousHidden: plan.floats("\(cell.rawValue) previous states") { $0.rows * h },
            zeros: plan.floats("\(cell.rawValue) zero row") { _ in h },
            dReversedInput: plan.floats("\(cell.rawValue) reversed input gradient") { bi ? $0.rows * widest : 0 },
            pooledParts: plan.floats("\(cell.rawValue) per-direction pooled") { bi ? 2 * $0.texts * h : 0 },
            packedWeights: plan.floats("\(cell.rawValue) packed recurrent weights") { _ in
                RecurrentProduct.scratchFloats(blocks: cell.blocks, hiddenDim: h, inputDim: widest)
            },
            layers: layerBuffers)
    }

    func initialize(_ params: UnsafeMutablePointer<Float>, rng: inout SeededGenerator) {
        let bound = 1 / Float(hiddenDim).squareRoot()
        for direction in recurrent.joined() {
            for t in [direction.weightIH, direction.weightHH] + direction.biases {
                for k in 0..<t.count { params[t.offset + k] = rng.uniform(-bound, bound) }
            }
            if cell == .lstm {
                for j in hiddenDim..<(2 * hiddenDim) { params[direction.biases[0].offset + j] += 1 }
            }
        }
    }

    /// Input of layer l > 0 (rows in forward order): the layer below's own states when
    /// that is all its output is, or its assembled output.
    func layerInput(_ l: Int, _ ws: Workspace, dropping: Bool) -> UnsafePointer<Float> {
        if directions == 1 && !dropping { return UnsafePointer(ws[buffers.layers[l - 1].directions[0].states]) }
        return UnsafePointer(ws[buffers.layers[l - 1].output])
    }

    // MARK: forward

    func forward(_ pass: Pass, embedded: UnsafeMutablePointer<Float>, features: UnsafeMutablePointer<Float>) {
        let ws = pass.workspace
        if pass.training && dropout > 0 {
            Dropout.forward(embedded, count: pass.rows * inputDim, rate: dropout, mask: ws[buffers.embeddingMask], rng: &ws.rng)
        }
        run(pass, embedded: UnsafePointer(embedded), table: nil, features: features)
    }

    func forward(_ pass: Pass, table: InputProjectionTable, features: UnsafeMutablePointer<Float>) -> Bool {
        guard !pass.training, table.width == cell.blocks * hiddenDim else { return false }
        run(pass, embedded: nil, table: table, features: features)
        return true
    }

    func forward(_ pass: Pass, projections fill: (Int, UnsafeMutablePointer<Float>) -> Void,
                 features: UnsafeMutablePointer<Float>) -> Bool {
        guard !pass.training else { return false }
        withoutActuallyEscaping(fill) { fill in
            run(pass, embedded: nil, table: nil, projections: fill, features: features)
        }
        return true
    }

    /// The layers and the pooling; the first layer's projections come from `table` when
    /// there is one (then `embedded` is not read).
    private func run(_ pass: Pass, embedded: UnsafePointer<Float>?, table: InputProjectionTable?,
                     projections: ((Int, UnsafeMutablePointer<Float>) -> Void)? = nil,
                     features: UnsafeMutablePointer<Float>) {
        let ws = pass.workspace, batch = pass.batch
        let n = pass.rows, size = pass.texts, h = hiddenDim, e = inputDim, w = featureDim
        let dropping = pass.training && dropout > 0
        for l in 0..<layers {
            let inputDim = l == 0 ? e : w
            for d in 0..<directions {
                if l == 0, let table = table {
                    cellForward(pass, l, d, input: .table(table.direction(d), reversed: d == 1))
                    continue
                }
                if l == 0, let projections = projections {
                    projections(d, projected(ws, l, d))
                    cellForward(pass, l, d, input: .projected)
                    continue
                }
                guard let x = l == 0 ? embedded : layerInput(l, ws, dropping: dropping) else { continue }
                var input = x
                if d == 1 {
                    let reversed = ws[buffers.layers[l].reversedInput]
                    ReversedRows.copy(from: x, stride: inputDim, to: reversed, stride: inputDim, width: inputDim, batch: batch)
                    input = UnsafePointer(reversed)
                }
                cellForward(pass, l, d, input: .rows(input, width: inputDim))
            }
            if l < layers - 1 && (directions == 2 || dropping) {
                let lb = buffers.layers[l]
                let out = ws[lb.output]
                let forwardStates = ws[lb.directions[0].states]
                for r in 0..<n { (out + r * w).update(from: forwardStates + r * h, count: h) }
                if directions == 2 {
                    ReversedRows.copy(from: ws[lb.directions[1].states], stride: h, to: out + h, stride: w, width: h, batch: batch)
                }
                if dropping {
                    Dropout.forward(out, count: n * w, rate: dropout, mask: ws[lb.outputMask], rng: &ws.rng)
                }
            }
        }
        let top = buffers.layers[layers - 1]
        let argmax = ws[buffers.argmax]
        if directions == 1 {
            pooling.forward(hidden: ws[top.directions[0].states], width: h, batch: batch, pooled: features, argmax: argmax)
        } else {
            let parts = ws[buffers.pooledParts]
            for d in 0..<2 {
                pooling.forward(hidden: ws[top.directions[d].states], width: h, batch: batch,
                                pooled: parts + d * size * h, argmax: argmax + d * size * h)
            }
            for b in 0..<size {
                for d in 0..<2 { (features + b * w + d * h).update(from: parts + (d * size + b) * h, count: h) }
            }
        }
    }

    /// Where a direction's input projections W_ih x + b come from: its input rows,
    /// projected here, or an inference table, gathered by token.
    enum CellInput {
        case rows(UnsafePointer<Float>, width: Int)
        case table(UnsafePointer<Float>, reversed: Bool)
        /// Already in the projections buffer (`projected`).
        case projected
    }

    /// Where direction d of layer l keeps its input projections [N × blocks·H]: LSTM and
    /// GRU in their gates, a plain RNN in its states.
    private func projected(_ ws: Workspace, _ l: Int, _ d: Int) -> UnsafeMutablePointer<Float> {
        let b = buffers.layers[l].directions[d]
        return cell == .rnn ? ws[b.states] : ws[b.gates]
    }

    /// One direction of one layer, its activations into that direction's buffers.
    func cellForward(_ pass: Pass, _ l: Int, _ d: Int, input: CellInput, initial: LSTMLayer.State? = nil) {
        let ws = pass.workspace, params = pass.params, t = recurrent[l][d], b = buffers.layers[l].directions[d]
        let n = pass.rows, h = hiddenDim, width = cell.blocks * h
        let hidden = ws[b.states]
        // LSTM and GRU keep the projections in their gates; a plain RNN in its states.
        let projected = cell == .rnn ? hidden : ws[b.gates]
        var gather: InputProjection.TableRows? = nil
        switch input {
        case let .rows(x, inputDim):
            if let q = pass.quantized?[t.weightIH] {
                q.linear(x: x, count: n, bias: params + t.biases[0].offset, out: projected)
            } else {
                InputProjection.compute(x: x, rows: n, inputDim: inputDim, weight: params + t.weightIH.offset,
                                        bias: params + t.biases[0].offset, width: width, into: projected,
                                        packedScratch: ws[buffers.packedWeights])
            }
        case let .table(table, reversed):
            gather = InputProjection.TableRows(table: table, width: width, reversed: reversed)
        case .projected:
            break
        }
        if initial == nil, let q = pass.quantized?[t.weightHH] {
            // An int8 model: the same steps with the recurrent product in int8.
            switch cell {
            case .lstm: QuantizedRecurrence.lstm(projected: projected, hiddenDim: h, weightHH: q, batch: pass.batch,
                                                 cells: ws[b.cells], hidden: hidden, tableRows: gather)
            case .gru: QuantizedRecurrence.gru(projected: projected, hiddenDim: h, weightHH: q,
                                               biasHH: params + t.biases[1].offset, batch: pass.batch,
                                               recurrent: ws[b.cells], hidden: hidden, tableRows: gather)
            case .rnn: QuantizedRecurrence.rnn(projected: projected, hiddenDim: h, weightHH: q, batch: pass.batch,
                                               tableRows: gather)
            }
            return
        }
        switch cell {
        case .lstm:
            LSTMLayer.forward(projected: projected, hiddenDim: h, weightHH: params + t.weightHH.offset, batch: pass.batch,
                              cells: ws[b.cells], hidden: hidden, tableRows: gather, initial: initial,
                              packedScratch: ws[buffers.packedWeights])
        case .gru:
            GRULayer.forward(projected: projected, hiddenDim: h, weightHH: params + t.weightHH.offset,
                             biasHH: params + t.biases[1].offset, batch: pass.batch,
                             recurrent: ws[b.cells], hidden: hidden, tableRows: gather,
                             packedScratch: ws[buffers.packedWeights])
        case .rnn:
            RNNLayer.forward(projected: projected, hiddenDim: h, weightHH: params + t.weightHH.offset, batch: pass.batch,
                             tableRows: gather, packedScratch: ws[buffers.packedWeights])
        }
    }

    /// Max pooling's argmax rows [B × W] of the last forward pass (tests).
    func poolingRows(_ ws: Workspace) -> UnsafeMutablePointer<Int32> { ws[buffers.argmax] }

    // MARK: inference table

    /// One table per direction of the first layer, over the whole vocabulary.
    func inputTableShape(vocabulary: Int) -> InputTableShape? {
        InputTableShape(rows: vocabulary, width: cell.blocks * hiddenDim, directions: directions)
    }

    /// Table rows `words` of direction d: the projection cellForward would compute for
    /// those embedding rows, by the same call.
    func fillInputTable(_ params: UnsafePointer<Float>, embeddings: UnsafePointer<Float>, direction d: Int,
                        words: Range<Int>, into table: UnsafeMutablePointer<Float>) {
        guard d >= 0, d < directions else { return }
        let t = recurrent[0][d], e = inputDim, width = cell.blocks * hiddenDim
        InputProjection.compute(x: embeddings + words.lowerBound * e, rows: words.count, inputDim: e,
                                weight: params + t.weightIH.offset, bias: params + t.biases[0].offset, width: width,
                                into: table + words.lowerBound * width)
    }

    // MARK: backward

    func backward(_ pass: Pass, embedded: UnsafePointer<Float>, dFeatures dPooled: UnsafeMutablePointer<Float>,
                  dEmbedded: UnsafeMutablePointer<Float>, grads: UnsafeMutablePointer<Float>?) {
        backward(pass, embedded: embedded, dFeatures: dPooled, dEmbedded: dEmbedded, grads: grads, projectionGradients: nil)
    }

    func backward(_ pass: Pass, dFeatures: UnsafeMutablePointer<Float>,
                  projectionGradients read: (Int, UnsafePointer<Float>) -> Void) -> Bool {
        guard !pass.training else { return false }
        withoutActuallyEscaping(read) { read in
            backward(pass, embedded: nil, dFeatures: dFeatures, dEmbedded: nil, grads: nil, projectionGradients: read)
        }
        return true
    }

    /// With `projectionGradients`, the first layer hands each direction's gradient of its
    /// input projections (in `buffers.dGates`) to it instead of computing dEmbedded.
    private func backward(_ pass: Pass, embedded: UnsafePointer<Float>?, dFeatures dPooled: UnsafeMutablePointer<Float>,
                          dEmbedded: UnsafeMutablePointer<Float>?, grads: UnsafeMutablePointer<Float>?,
                          projectionGradients: ((Int, UnsafePointer<Float>) -> Void)?) {
        let ws = pass.workspace, batch = pass.batch
        let n = pass.rows, size = pass.texts, h = hiddenDim, e = inputDim, w = featureDim
        let dropping = pass.training && dropout > 0
        // The top layer's states get gradients from the pooling only.
        let argmax = ws[buffers.argmax]
        for d in 0..<directions {
            let dHidden = ws[buffers.dHidden[d]]
            dHidden.update(repeating: 0, count: n * h)
            var dPart = UnsafePointer(dPooled)
            if directions == 2 {
                let part = ws[buffers.pooledParts] + d * size * h
                for b in 0..<size { (part + b * h).update(from: dPooled + b * w + d * h, count: h) }
                dPart = UnsafePointer(part)
            }
            pooling.backward(dPooled: dPart, width: h, batch: batch, argmax: argmax + d * size * h, dHidden: dHidden)
        }
        // Gradients of a layer's output and of its input swap roles going down; the
        // first layer writes its input gradient straight into dEmbedded.
        var dOutput = ws[buffers.gradientA], dInput = ws[buffers.gradientB]
        for l in stride(from: layers - 1, through: 0, by: -1) {
            let inputDim = l == 0 ? e : w
            if l < layers - 1 {
                // dOutput [N × W]: split into the directions, each in its own row order.
                let forwardPart = ws[buffers.dHidden[0]]
                for r in 0..<n { (forwardPart + r * h).update(from: dOutput + r * w, count: h) }
                if directions == 2 {
                    ReversedRows.copy(from: dOutput + h, stride: w, to: ws[buffers.dHidden[1]], stride: h, width: h, batch: batch)
                }
            }
            if l == 0, let read = projectionGradients {
                for d in 0..<directions {
                    cellBackward(pass, l, d, x: nil, inputDim: inputDim, dHidden: ws[buffers.dHidden[d]], dX: nil, grads: nil)
                    read(d, UnsafePointer(ws[buffers.dGates]))
                }
                break
            }
            let x = l == 0 ? embedded : UnsafePointer(layerInput(l, ws, dropping: dropping))
            let dX = l == 0 ? dEmbedded : dInput
            guard let x = x, let dX = dX else { return }
            for d in 0..<directions {
                let dHidden = ws[buffers.dHidden[d]]
                if d == 0 {
                    cellBackward(pass, l, d, x: x, inputDim: inputDim, dHidden: dHidden, dX: dX, grads: grads)
                } else {
                    let dReversed = ws[buffers.dReversedInput]
                    cellBackward(pass, l, d, x: ws[buffers.layers[l].reversedInput], inputDim: inputDim,
                                 dHidden: dHidden, dX: dReversed, grads: grads)
                    ReversedRows.copy(from: dReversed, stride: inputDim, to: dX, stride: inputDim, width: inputDim,
                                      batch: batch, accumulate: true)
                }
            }
            if dropping {
                let mask = l == 0 ? ws[buffers.embeddingMask] : ws[buffers.layers[l - 1].outputMask]
                Dropout.backward(dX, count: n * inputDim, mask: mask)
            }
            swap(&dOutput, &dInput)
        }
    }

    /// Backward pass of one direction of one layer; writes dX [N × I] in that direction's row order.
    /// Without `x` no parameter gradients are taken; without `dX` no input gradient.
    private func cellBackward(_ pass: Pass, _ l: Int, _ d: Int, x: UnsafePointer<Float>?, inputDim: Int,
                              dHidden: UnsafeMutablePointer<Float>, dX: UnsafeMutablePointer<Float>?,
                              grads: UnsafeMutablePointer<Float>?) {
        let ws = pass.workspace, params = pass.params, t = recurrent[l][d], b = buffers.layers[l].directions[d]
        let h = hiddenDim
        let hidden = ws[b.states], previousHidden = ws[buffers.previousHidden]
        let grads = x == nil ? nil : grads, x = x ?? UnsafePointer(ws[buffers.zeros])
        let dWeightIH = grads.map { $0 + t.weightIH.offset }, dWeightHH = grads.map { $0 + t.weightHH.offset }
        switch cell {
        case .lstm:
            LSTMLayer.backward(x: x, inputDim: inputDim, hiddenDim: h, weightIH: params + t.weightIH.offset,
                               weightHH: params + t.weightHH.offset, batch: pass.batch,
                               gates: ws[b.gates], cells: ws[b.cells],
                               hidden: hidden, dHidden: dHidden, dWeightIH: dWeightIH,
                               dWeightHH: dWeightHH, dBias: grads.map { $0 + t.biases[0].offset }, dX: dX,
                               dGates: ws[buffers.dGates], carry: ws[buffers.dGatesAux],
                               previousHidden: previousHidden, zeros: ws[buffers.zeros],
                               packedScratch: ws[buffers.packedWeights])
        case .gru:
            GRULayer.backward(x: x, inputDim: inputDim, hiddenDim: h, weightIH: params + t.weightIH.offset,
                              weightHH: params + t.weightHH.offset, batch: pass.batch,
                              gates: ws[b.gates], recurrent: ws[b.cells],
                              hidden: hidden, dHidden: dHidden, dWeightIH: dWeightIH,
                              dWeightHH: dWeightHH, dBiasIH: grads.map { $0 + t.biases[0].offset },
                              dBiasHH: grads.map { $0 + t.biases[1].offset }, dX: dX,
                              dGatesX: ws[buffers.dGates], dGatesH: ws[buffers.dGatesAux],
                              previousHidden: previousHidden, zeros: ws[buffers.zeros],
                              packedScratch: ws[buffers.packedWeights])
        case .rnn:
            RNNLayer.backward(x: x, inputDim: inputDim, hiddenDim: h, weightIH: params + t.weightIH.offset,
                              weightHH: params + t.weightHH.offset, batch: pass.batch, hidden: hidden, dHidden: dHidden,
                              dWeightIH: dWeightIH, dWeightHH: dWeightHH,
                              dBias: grads.map { $0 + t.biases[0].offset }, dX: dX,
                              dPre: ws[buffers.dGates], previousHidden: previousHidden,
                              packedScratch: ws[buffers.packedWeights])
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
