/// Kim (2014)-style convolutional encoder: Embedding → for each kernel width K a 1-D
/// convolution with F filters, ReLU and max over time → the pooled features of all
/// widths side by side [B × F·widths] → Linear → softmax. With dropout > 0, training
/// drops embedding values and pooled features (inverted dropout; inference is unchanged).
///
/// Layout: embedding.weight [V × E]
///         conv.K.weight [F × K·E], conv.K.bias [F] for each K of model.kernel_sizes, in order
///         output.weight [C × F·widths], output.bias [C]
/// A width listed more than once gets `conv.K_2`, `conv.K_3`, … for its repeats, so
/// every tensor name is unique.
///
/// Workspace: embedded [N × E], pooled [B × W] (W = F·widths; after dropout when
/// training), poolArgmax [B × W], logits, probs; backward: dLogits, dPooled [B × W],
/// dInput [N × E]; and the extra buffers of `Slot`.
struct CNNNetwork: TextNetwork {
    let vocabSize: Int
    let embeddingDim: Int
    let kernelSizes: [Int]
    let filters: Int
    let dropout: Float
    let classes: Int
    let head: OutputHead
    let layout: ParameterLayout

    private let embedding: ParameterLayout.Tensor
    private let convWeight: [ParameterLayout.Tensor]
    private let convBias: [ParameterLayout.Tensor]
    private let outputWeight: ParameterLayout.Tensor
    private let outputBias: ParameterLayout.Tensor

    /// The workspace's extra buffers; P ≤ N is a width's output positions (Conv1D).
    enum Slot {
        /// [N × E] and [B × W]: dropout masks of the embeddings and of the pooled features.
        static let embeddingMask = 0, featureMask = 1
        /// Backward scratch shared by the widths: [P × F] and [P × Kmax·E].
        static let dConv = 2, dUnfolded = 3
        /// Width i's unfolded input [P × K·E] and convolution output [P × F].
        static func unfolded(_ i: Int) -> Int { 4 + 2 * i }
        static func conv(_ i: Int) -> Int { 5 + 2 * i }
    }

    /// Width of the pooled feature vector: F per kernel width.
    var featureDim: Int { filters * kernelSizes.count }

    init(vocabSize: Int, classes: Int, config: Config.Model) {
        self.vocabSize = vocabSize
        self.classes = classes
        head = OutputHead(task: config.task)
        embeddingDim = config.embeddingDim
        kernelSizes = config.kernelSizes
        filters = config.filters
        dropout = Float(config.dropout)
        var layout = ParameterLayout()
        embedding = layout.add("embedding.weight", [vocabSize, embeddingDim])
        var weights = [ParameterLayout.Tensor](), biases = [ParameterLayout.Tensor]()
        var seen = [Int: Int]()
        for k in kernelSizes {
            let repeatCount = (seen[k] ?? 0) + 1
            seen[k] = repeatCount
            let name = repeatCount == 1 ? "conv.\(k)" : "conv.\(k)_\(repeatCount)"
            weights.append(layout.add("\(name).weight", [filters, k * embeddingDim]))
            biases.append(layout.add("\(name).bias", [filters]))
        }
        convWeight = weights; convBias = biases
        outputWeight = layout.add("output.weight", [classes, filters * kernelSizes.count])
        outputBias = layout.add("output.bias", [classes])
        self.layout = layout
    }

    var embeddingTensor: ParameterLayout.Tensor { embedding }

    /// Embeddings U(−0.25, 0.25) as Kim (2014) drew the random ones (tweets corpus,
    /// seed 1, 1 or 2 threads: 0.760–0.764 test accuracy, against 0.730 for N(0, 1)
    /// and 0.746 for U(−0.1, 0.1)); convolution and output weights and biases
    /// U(−1/√fan_in, 1/√fan_in) as PyTorch's defaults, fan_in = K·E and F·widths.
    func initialize(_ params: UnsafeMutablePointer<Float>, rng: inout SeededGenerator) {
        for j in 0..<embedding.count { params[embedding.offset + j] = rng.uniform(-0.25, 0.25) }
        for (i, k) in kernelSizes.enumerated() {
            let bound = 1 / Float(k * embeddingDim).squareRoot()
            for t in [convWeight[i], convBias[i]] {
                for j in 0..<t.count { params[t.offset + j] = rng.uniform(-bound, bound) }
            }
        }
        let bound = 1 / Float(featureDim).squareRoot()
        for t in [outputWeight, outputBias] {
            for j in 0..<t.count { params[t.offset + j] = rng.uniform(-bound, bound) }
        }
    }

    /// Bytes of the buffers listed above, with every width's P at its bound N.
    func workspaceBytes(rows: Int, size: Int) -> Int {
        let e = embeddingDim, f = filters
        let kMax = kernelSizes.max() ?? 1
        let perWidth = kernelSizes.reduce(0) { $0 + rows * ($1 * e + f) }
        let scratch = rows * (f + kMax * e)
        return 4 * (3 * rows * e + perWidth + scratch + size * (4 * featureDim + 3 * classes))
    }

    func forward(_ params: UnsafePointer<Float>, batch: PackedBatch, workspace ws: Workspace) {
        let n = batch.totalRows, e = embeddingDim, w = featureDim
        let embedded = ws.embedded.reserve(n * e)
        let features = ws.pooled.reserve(batch.size * w)
        let argmax = ws.poolArgmax.reserve(batch.size * w)
        ws.logits.reserve(batch.size * classes)
        ws.probs.reserve(batch.size * classes)
        batch.tokens.withUnsafeBufferPointer { ids in
            if let base = ids.baseAddress {
                Embedding.forward(table: params + embedding.offset, dim: e, ids: base, count: n, out: embedded)
            }
        }
        let dropping = ws.training && dropout > 0
        if dropping {
            Dropout.forward(embedded, count: n * e, rate: dropout, mask: ws.extra(Slot.embeddingMask).reserve(n * e), rng: &ws.rng)
        }
        for (i, k) in kernelSizes.enumerated() {
            let p = Conv1D.positions(batch: batch, width: k)
            let conv = ws.extra(Slot.conv(i)).reserve(p * filters)
            Conv1D.forward(x: embedded, dim: e, width: k, filters: filters,
                           weight: params + convWeight[i].offset, bias: params + convBias[i].offset, batch: batch,
                           unfolded: ws.extra(Slot.unfolded(i)).reserve(p * k * e), out: conv)
            ReLUMaxOverTime.forward(conv: conv, filters: filters, width: k, batch: batch,
                                    pooled: features, argmax: argmax, stride: w, column: i * filters)
        }
        if dropping {
            Dropout.forward(features, count: batch.size * w, rate: dropout,
                            mask: ws.extra(Slot.featureMask).reserve(batch.size * w), rng: &ws.rng)
        }
        Linear.forward(x: features, rows: batch.size, inputDim: w, outputDim: classes,
                       weight: params + outputWeight.offset, bias: params + outputBias.offset, out: ws.logits.pointer)
        head.activate(logits: ws.logits.pointer, rows: batch.size, width: classes, outputs: ws.probs.pointer)
    }

    func backward(_ params: UnsafePointer<Float>, batch: PackedBatch, loss: LossTargets,
                  workspace ws: Workspace, grads: UnsafeMutablePointer<Float>) {
        let n = batch.totalRows, e = embeddingDim, w = featureDim
        let dFeatures = ws.dPooled.reserve(batch.size * w)
        let dEmbedded = ws.dInput.reserve(n * e)
        ws.dLogits.reserve(batch.size * classes)
        head.backward(outputs: ws.probs.pointer, rows: batch.size, width: classes, targets: loss,
                                     dLogits: ws.dLogits.pointer)
        Linear.backward(dOut: ws.dLogits.pointer, x: ws.pooled.pointer, rows: batch.size, inputDim: w, outputDim: classes,
                        weight: params + outputWeight.offset, dWeight: grads + outputWeight.offset,
                        dBias: grads + outputBias.offset, dx: dFeatures)
        let dropping = ws.training && dropout > 0
        if dropping { Dropout.backward(dFeatures, count: batch.size * w, mask: ws.extra(Slot.featureMask).pointer) }
        dEmbedded.update(repeating: 0, count: n * e)
        let kMax = kernelSizes.max() ?? 1
        let dConv = ws.extra(Slot.dConv).reserve(n * filters)
        let dUnfolded = ws.extra(Slot.dUnfolded).reserve(n * kMax * e)
        for (i, k) in kernelSizes.enumerated() {
            let p = Conv1D.positions(batch: batch, width: k)
            let conv = ws.extra(Slot.conv(i)).pointer
            dConv.update(repeating: 0, count: p * filters)
            ReLUMaxOverTime.backward(dPooled: dFeatures, conv: conv, argmax: ws.poolArgmax.pointer, filters: filters,
                                     batchSize: batch.size, stride: w, column: i * filters, dConv: dConv)
            Conv1D.backward(dOut: dConv, unfolded: ws.extra(Slot.unfolded(i)).pointer, dim: e, width: k, filters: filters,
                            weight: params + convWeight[i].offset, batch: batch,
                            dWeight: grads + convWeight[i].offset, dBias: grads + convBias[i].offset,
                            dUnfolded: dUnfolded, dX: dEmbedded)
        }
        if dropping { Dropout.backward(dEmbedded, count: n * e, mask: ws.extra(Slot.embeddingMask).pointer) }
        batch.tokens.withUnsafeBufferPointer { ids in
            if let base = ids.baseAddress {
                Embedding.backward(dOut: dEmbedded, dim: e, ids: base, count: n, dTable: grads + embedding.offset)
            }
        }
    }
}
