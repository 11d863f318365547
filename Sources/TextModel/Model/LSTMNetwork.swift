#if canImport(Glibc)
import Glibc
#endif

/// Embedding → LSTM (one or more layers) → pooling over time → Linear → softmax.
///
/// All weights live in one flat buffer described by `layout`:
///   embedding.weight [V × E]
///   lstm.L.weight_ih [4H × (E or H)], lstm.L.weight_hh [4H × H], lstm.L.bias [4H]
///   output.weight [C × H], output.bias [C]
/// The network itself holds no mutable state; per-call buffers live in a Workspace, so
/// one network and one parameter buffer serve many threads at once.
struct LSTMNetwork: TextNetwork {
    let vocabSize: Int
    let embeddingDim: Int
    let hiddenDim: Int
    let layers: Int
    let pooling: SequencePooling
    let classes: Int
    let layout: ParameterLayout

    private let embedding: ParameterLayout.Tensor
    private let weightIH: [ParameterLayout.Tensor]
    private let weightHH: [ParameterLayout.Tensor]
    private let bias: [ParameterLayout.Tensor]
    private let outputWeight: ParameterLayout.Tensor
    private let outputBias: ParameterLayout.Tensor

    init(vocabSize: Int, classes: Int, config: Config.Model) {
        self.vocabSize = vocabSize
        self.classes = classes
        embeddingDim = config.embeddingDim
        hiddenDim = config.hiddenDim
        layers = config.layers
        pooling = SequencePooling(rawValue: config.pooling) ?? .last
        var layout = ParameterLayout()
        embedding = layout.add("embedding.weight", [vocabSize, embeddingDim])
        var ih = [ParameterLayout.Tensor](), hh = [ParameterLayout.Tensor](), b = [ParameterLayout.Tensor]()
        for l in 0..<layers {
            ih.append(layout.add("lstm.\(l).weight_ih", [4 * hiddenDim, l == 0 ? embeddingDim : hiddenDim]))
            hh.append(layout.add("lstm.\(l).weight_hh", [4 * hiddenDim, hiddenDim]))
            b.append(layout.add("lstm.\(l).bias", [4 * hiddenDim]))
        }
        weightIH = ih; weightHH = hh; bias = b
        outputWeight = layout.add("output.weight", [classes, hiddenDim])
        outputBias = layout.add("output.bias", [classes])
        self.layout = layout
    }

    /// Initial weights as PyTorch's defaults draw them (embeddings N(0, 1); LSTM and
    /// output weights and biases U(-1/√H, 1/√H)), except that each forget-gate bias
    /// starts 1 higher, so cells keep their state early in training (Jozefowicz et al.,
    /// 2015); on the tweets corpus this raised test accuracy for two seeds out of three.
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
        let lstmBound = 1 / Float(hiddenDim).squareRoot()
        for l in 0..<layers {
            for t in [weightIH[l], weightHH[l], bias[l]] {
                for k in 0..<t.count { params[t.offset + k] = rng.uniform(-lstmBound, lstmBound) }
            }
            for j in hiddenDim..<(2 * hiddenDim) { params[bias[l].offset + j] += 1 }
        }
        let outBound = 1 / Float(hiddenDim).squareRoot()
        for t in [outputWeight, outputBias] {
            for k in 0..<t.count { params[t.offset + k] = rng.uniform(-outBound, outBound) }
        }
    }

    /// Bytes of activations a batch of `rows` packed tokens and `size` texts needs.
    func workspaceBytes(rows: Int, size: Int) -> Int {
        let perLayer = rows * (4 * hiddenDim + 2 * hiddenDim)
        let backward = rows * (4 * hiddenDim + 2 * hiddenDim + max(embeddingDim, hiddenDim))
        return 4 * (rows * embeddingDim + layers * perLayer + backward + size * (hiddenDim + 3 * classes))
    }

    /// Computes class probabilities for a packed batch into `workspace.probs` [B × C].
    func forward(_ params: UnsafePointer<Float>, batch: PackedBatch, workspace ws: Workspace) {
        let n = batch.totalRows, h = hiddenDim
        ws.prepare(network: self, rows: n, size: batch.size)
        batch.tokens.withUnsafeBufferPointer { ids in
            if let base = ids.baseAddress {
                Embedding.forward(table: params + embedding.offset, dim: embeddingDim, ids: base, count: n, out: ws.embedded.pointer)
            }
        }
        for l in 0..<layers {
            let input = l == 0 ? ws.embedded.pointer : ws.hidden[l - 1].pointer
            LSTMLayer.forward(x: input, inputDim: l == 0 ? embeddingDim : h, hiddenDim: h,
                              weightIH: params + weightIH[l].offset, weightHH: params + weightHH[l].offset,
                              bias: params + bias[l].offset, batch: batch, gates: ws.gates[l].pointer,
                              cells: ws.cells[l].pointer, hidden: ws.hidden[l].pointer)
        }
        pooling.forward(hidden: ws.hidden[layers - 1].pointer, width: h, batch: batch,
                        pooled: ws.pooled.pointer, argmax: ws.poolArgmax.pointer)
        Linear.forward(x: ws.pooled.pointer, rows: batch.size, inputDim: h, outputDim: classes,
                       weight: params + outputWeight.offset, bias: params + outputBias.offset, out: ws.logits.pointer)
        SoftmaxCrossEntropy.softmax(logits: ws.logits.pointer, rows: batch.size, classes: classes, probs: ws.probs.pointer)
    }

    /// Backward pass after `forward` on the same batch and workspace. Adds the gradient of
    /// `scale · Σ cross-entropy` into `grads` (same layout as the parameters).
    func backward(_ params: UnsafePointer<Float>, batch: PackedBatch, targets: UnsafePointer<Int32>,
                  scale: Float, workspace ws: Workspace, grads: UnsafeMutablePointer<Float>) {
        let n = batch.totalRows, h = hiddenDim
        ws.prepareBackward(network: self, rows: n, size: batch.size)
        SoftmaxCrossEntropy.backward(probs: ws.probs.pointer, targets: targets, rows: batch.size, classes: classes,
                                     scale: scale, dLogits: ws.dLogits.pointer)
        Linear.backward(dOut: ws.dLogits.pointer, x: ws.pooled.pointer, rows: batch.size, inputDim: h, outputDim: classes,
                        weight: params + outputWeight.offset, dWeight: grads + outputWeight.offset,
                        dBias: grads + outputBias.offset, dx: ws.dPooled.pointer)
        ws.dHidden.pointer.update(repeating: 0, count: n * h)
        pooling.backward(dPooled: ws.dPooled.pointer, width: h, batch: batch,
                         argmax: ws.poolArgmax.pointer, dHidden: ws.dHidden.pointer)
        for l in stride(from: layers - 1, through: 0, by: -1) {
            let input = l == 0 ? ws.embedded.pointer : ws.hidden[l - 1].pointer
            let inputDim = l == 0 ? embeddingDim : h
            LSTMLayer.backward(x: input, inputDim: inputDim, hiddenDim: h,
                               weightIH: params + weightIH[l].offset, weightHH: params + weightHH[l].offset,
                               batch: batch, gates: ws.gates[l].pointer, cells: ws.cells[l].pointer,
                               hidden: ws.hidden[l].pointer, dHidden: ws.dHidden.pointer,
                               dWeightIH: grads + weightIH[l].offset, dWeightHH: grads + weightHH[l].offset,
                               dBias: grads + bias[l].offset, dX: ws.dInput.pointer,
                               dGates: ws.dGates.pointer, carry: ws.carry.pointer, previousHidden: ws.previousHidden.pointer,
                               zeros: ws.zeros.pointer)
            if l > 0 {
                // The layer below produced this layer's input: its output gradient is dInput.
                ws.dHidden.pointer.update(from: ws.dInput.pointer, count: n * h)
            }
        }
        batch.tokens.withUnsafeBufferPointer { ids in
            if let base = ids.baseAddress {
                Embedding.backward(dOut: ws.dInput.pointer, dim: embeddingDim, ids: base, count: n,
                                   dTable: grads + embedding.offset)
            }
        }
    }

    var embeddingTensor: ParameterLayout.Tensor { embedding }
}

/// Activations and scratch for one thread's forward/backward passes. Buffers grow to the
/// largest batch seen and are then reused, so steady-state steps do not allocate.
final class Workspace {
    let embedded = FloatBuffer(count: 0)
    var gates: [FloatBuffer] = []
    var cells: [FloatBuffer] = []
    var hidden: [FloatBuffer] = []
    let pooled = FloatBuffer(count: 0)
    let poolArgmax = IndexBuffer(count: 0)
    let logits = FloatBuffer(count: 0)
    let probs = FloatBuffer(count: 0)
    let dLogits = FloatBuffer(count: 0)
    let dPooled = FloatBuffer(count: 0)
    let dHidden = FloatBuffer(count: 0)
    let dInput = FloatBuffer(count: 0)
    let dGates = FloatBuffer(count: 0)
    let carry = FloatBuffer(count: 0)
    let previousHidden = FloatBuffer(count: 0)
    let zeros = FloatBuffer(count: 0)
    let batch = PackedBatch()

    func prepare(network: LSTMNetwork, rows: Int, size: Int) {
        let h = network.hiddenDim, c = network.classes
        while gates.count < network.layers {
            gates.append(FloatBuffer(count: 0)); cells.append(FloatBuffer(count: 0)); hidden.append(FloatBuffer(count: 0))
        }
        embedded.reserve(rows * network.embeddingDim)
        for l in 0..<network.layers {
            gates[l].reserve(rows * 4 * h); cells[l].reserve(rows * h); hidden[l].reserve(rows * h)
        }
        pooled.reserve(size * h); poolArgmax.reserve(size * h); logits.reserve(size * c); probs.reserve(size * c)
    }

    /// Extra buffers only training needs.
    func prepareBackward(network: LSTMNetwork, rows: Int, size: Int) {
        let h = network.hiddenDim
        dLogits.reserve(size * network.classes); dPooled.reserve(size * h)
        dHidden.reserve(rows * h); dInput.reserve(rows * max(network.embeddingDim, h))
        dGates.reserve(rows * 4 * h); carry.reserve(size * h); previousHidden.reserve(rows * h)
        zeros.reserve(h)
    }
}
