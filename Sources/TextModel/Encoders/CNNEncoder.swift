/// Kim (2014)-style convolutional encoder: for each kernel width K a 1-D convolution
/// with F filters over the embedded tokens, ReLU and max over time (model.pooling "max",
/// ReLUMaxOverTime) or the mean over the text's positions ("mean", ReLUMeanOverTime);
/// the pooled features of all widths side by side [B × F·widths]. With dropout > 0, training drops
/// embedding values and pooled features (inverted dropout; inference is unchanged).
///
/// Tensors: conv.K.weight [F × K·E], conv.K.bias [F] for each K of model.kernel_sizes,
/// in order. A width listed more than once gets `conv.K_2`, `conv.K_3`, … for its
/// repeats, so every tensor name is unique.
///
/// Initialization: embeddings U(−0.25, 0.25) as Kim drew the random ones (tweets: 0.760–
/// 0.764 test accuracy, against 0.730 for N(0, 1)); convolution and output weights and
/// biases U(−1/√fan_in, 1/√fan_in) as PyTorch's defaults, fan_in = K·E and F·widths.
struct CNNEncoder: Encoder {
    let inputDim: Int
    let kernelSizes: [Int]
    let filters: Int
    let dropout: Float
    /// .max or .mean (Config refuses .last for a CNN).
    let pooling: SequencePooling
    var embeddingInitialization: EmbeddingInitialization { .uniform(0.25) }
    var outputInitialization: OutputInitialization { .fanIn }

    private let convWeight: [ParameterLayout.Tensor]
    private let convBias: [ParameterLayout.Tensor]

    /// Plan buffers; P ≤ N is a width's output positions (Conv1D), so N bounds them.
    private struct Buffers {
        /// Dropout masks of the embeddings [N × E] and of the pooled features [B × W].
        let embeddingMask, featureMask: ActivationPlan.Floats
        /// Argmax rows of the max over time [B × W] (empty for mean pooling).
        let argmax: ActivationPlan.Indices
        /// Width i's unfolded input [P × K·E] and convolution output [P × F].
        let unfolded, conv: [ActivationPlan.Floats]
        /// Backward scratch shared by the widths: [P × F] and [P × Kmax·E].
        let dConv, dUnfolded: ActivationPlan.Floats
    }
    private let buffers: Buffers

    /// Width of the pooled feature vector: F per kernel width.
    var featureDim: Int { filters * kernelSizes.count }

    init(inputDim e: Int, kernelSizes: [Int], filters f: Int, dropout: Double, pooling: SequencePooling = .max,
         layout: inout ParameterLayout, plan: inout ActivationPlan) {
        inputDim = e
        self.kernelSizes = kernelSizes
        filters = f
        self.dropout = Float(dropout)
        self.pooling = pooling
        let maxPooling = pooling != .mean
        var weights = [ParameterLayout.Tensor](), biases = [ParameterLayout.Tensor]()
        var seen = [Int: Int]()
        for k in kernelSizes {
            let repeatCount = (seen[k] ?? 0) + 1
            seen[k] = repeatCount
            let name = repeatCount == 1 ? "conv.\(k)" : "conv.\(k)_\(repeatCount)"
            weights.append(layout.add("\(name).weight", [f, k * e]))
            biases.append(layout.add("\(name).bias", [f]))
        }
        convWeight = weights
        convBias = biases
        let w = f * kernelSizes.count, kMax = kernelSizes.max() ?? 1
        buffers = Buffers(
            embeddingMask: plan.floats("CNN embedding dropout mask") { $0.rows * e },
            featureMask: plan.floats("CNN feature dropout mask") { $0.texts * w },
            argmax: plan.indices("CNN max-over-time rows") { maxPooling ? $0.texts * w : 0 },
            unfolded: kernelSizes.map { k in plan.floats("CNN unfolded input, width \(k)") { $0.rows * k * e } },
            conv: kernelSizes.map { k in plan.floats("CNN convolution output, width \(k)") { $0.rows * f } },
            dConv: plan.floats("CNN convolution output gradient") { $0.rows * f },
            dUnfolded: plan.floats("CNN unfolded input gradient") { $0.rows * kMax * e })
    }

    func initialize(_ params: UnsafeMutablePointer<Float>, rng: inout SeededGenerator) {
        for (i, k) in kernelSizes.enumerated() {
            let bound = 1 / Float(k * inputDim).squareRoot()
            for t in [convWeight[i], convBias[i]] {
                for j in 0..<t.count { params[t.offset + j] = rng.uniform(-bound, bound) }
            }
        }
    }

    func forward(_ pass: Pass, embedded: UnsafeMutablePointer<Float>, features: UnsafeMutablePointer<Float>) {
        let ws = pass.workspace, batch = pass.batch, e = inputDim, w = featureDim
        let dropping = pass.training && dropout > 0
        if dropping {
            Dropout.forward(embedded, count: pass.rows * e, rate: dropout, mask: ws[buffers.embeddingMask], rng: &ws.rng)
        }
        let argmax = ws[buffers.argmax]
        for (i, k) in kernelSizes.enumerated() {
            let conv = ws[buffers.conv[i]]
            if let q = pass.quantized?[convWeight[i]] {
                // int8 model: the same unfolded windows times int8 filters (Conv1D.forward's product).
                Conv1D.unfold(x: embedded, dim: e, width: k, batch: batch, unfolded: ws[buffers.unfolded[i]])
                q.linear(x: ws[buffers.unfolded[i]], count: Conv1D.positions(batch: batch, width: k),
                         bias: pass.params + convBias[i].offset, out: conv)
            } else {
                Conv1D.forward(x: embedded, dim: e, width: k, filters: filters,
                               weight: pass.params + convWeight[i].offset, bias: pass.params + convBias[i].offset, batch: batch,
                               unfolded: ws[buffers.unfolded[i]], out: conv)
            }
            if pooling == .mean {
                ReLUMeanOverTime.forward(conv: conv, filters: filters, width: k, batch: batch,
                                         pooled: features, stride: w, column: i * filters)
            } else {
                ReLUMaxOverTime.forward(conv: conv, filters: filters, width: k, batch: batch,
                                        pooled: features, argmax: argmax, stride: w, column: i * filters)
            }
        }
        if dropping {
            Dropout.forward(features, count: pass.texts * w, rate: dropout, mask: ws[buffers.featureMask], rng: &ws.rng)
        }
    }

    func backward(_ pass: Pass, embedded: UnsafePointer<Float>, dFeatures: UnsafeMutablePointer<Float>,
                  dEmbedded: UnsafeMutablePointer<Float>, grads: UnsafeMutablePointer<Float>?) {
        let ws = pass.workspace, batch = pass.batch, n = pass.rows, e = inputDim, w = featureDim
        let dropping = pass.training && dropout > 0
        if dropping { Dropout.backward(dFeatures, count: pass.texts * w, mask: ws[buffers.featureMask]) }
        dEmbedded.update(repeating: 0, count: n * e)
        let dConv = ws[buffers.dConv], dUnfolded = ws[buffers.dUnfolded]
        for (i, k) in kernelSizes.enumerated() {
            let p = Conv1D.positions(batch: batch, width: k)
            dConv.update(repeating: 0, count: p * filters)
            if pooling == .mean {
                ReLUMeanOverTime.backward(dPooled: dFeatures, conv: ws[buffers.conv[i]], filters: filters, width: k,
                                          batch: batch, stride: w, column: i * filters, dConv: dConv)
            } else {
                ReLUMaxOverTime.backward(dPooled: dFeatures, conv: ws[buffers.conv[i]], argmax: ws[buffers.argmax], filters: filters,
                                         batchSize: batch.size, stride: w, column: i * filters, dConv: dConv)
            }
            Conv1D.backward(dOut: dConv, unfolded: ws[buffers.unfolded[i]], dim: e, width: k, filters: filters,
                            weight: pass.params + convWeight[i].offset, batch: batch,
                            dWeight: grads.map { $0 + convWeight[i].offset }, dBias: grads.map { $0 + convBias[i].offset },
                            dUnfolded: dUnfolded, dX: dEmbedded)
        }
        if dropping { Dropout.backward(dEmbedded, count: n * e, mask: ws[buffers.embeddingMask]) }
    }

    /// Width i's convolution output [P × F] and the embeddings' dropout mask [N × E] of
    /// the last forward pass (tests).
    func convolutionOutput(_ ws: Workspace, width i: Int) -> UnsafeMutablePointer<Float> { ws[buffers.conv[i]] }
    func embeddingMask(_ ws: Workspace) -> UnsafeMutablePointer<Float> { ws[buffers.embeddingMask] }
}
