/// A pre-norm Transformer encoder (Vaswani et al. 2017; pre-norm as Xiong et al. 2020):
/// learned position embeddings added to the token embeddings, N blocks of
///
///   x ← x + Dropout(W_o · SelfAttention(LayerNorm₁(x)))
///   x ← x + Dropout(W₂ · Dropout(GELU(W₁ · LayerNorm₂(x))))
///
/// then a final LayerNorm and the mean over each text's tokens (masked mean pooling:
/// the packed batch has no padding, so the mean is over the text's own tokens). Each text
/// attends only to its own tokens (SelfAttention), so results do not depend on batch
/// composition. Dropout (rate `dropout`, inverted) applies while training where
/// PyTorch's TransformerEncoderLayer applies it: to the attention probabilities, to the
/// attention block's and the feed-forward block's outputs, and after GELU.
///
/// Shapes: N packed rows, B texts, D = E model width, h heads, H feed-forward width,
/// P = tokenizer.max_length positions. Tensors (l the block):
///   transformer.position [P × D]
///   transformer.l.norm1.weight, .bias [D]; transformer.l.attention.in_proj.weight [3D × D],
///   .in_proj.bias [3D]; transformer.l.attention.out_proj.weight [D × D], .out_proj.bias [D];
///   transformer.l.norm2.weight, .bias [D]; transformer.l.ff1.weight [H × D], .ff1.bias [H];
///   transformer.l.ff2.weight [D × H], .ff2.bias [D]
///   transformer.norm.weight, .bias [D]
///
/// Initialization as PyTorch's: embeddings and positions N(0, 1) (nn.Embedding);
/// in_proj Xavier-uniform with zero bias and out_proj U(±1/√D) with zero bias
/// (nn.MultiheadAttention); feed-forward weights and biases U(±1/√fan_in) (nn.Linear);
/// LayerNorm γ = 1, β = 0; the output layer U(±1/√D).
struct TransformerEncoder: Encoder {
    let inputDim: Int
    let heads: Int
    let blocks: Int
    let feedForwardDim: Int
    let maxLength: Int
    let dropout: Float
    var featureDim: Int { inputDim }
    var embeddingInitialization: EmbeddingInitialization { .normal(1) }
    var outputInitialization: OutputInitialization { .fanIn }

    private struct BlockTensors {
        let norm1Weight, norm1Bias, inProjWeight, inProjBias, outProjWeight, outProjBias: ParameterLayout.Tensor
        let norm2Weight, norm2Bias, ff1Weight, ff1Bias, ff2Weight, ff2Bias: ParameterLayout.Tensor
    }
    private let position: ParameterLayout.Tensor
    private let blockTensors: [BlockTensors]
    private let normWeight, normBias: ParameterLayout.Tensor

    /// What one block keeps for its backward pass.
    private struct BlockBuffers {
        /// LayerNorm₁ output [N × D] and its mean and 1/σ [N] each.
        let norm1, mean1, rstd1: ActivationPlan.Floats
        /// q|k|v [N × 3D], the heads' outputs [N × D], attention probabilities and their
        /// dropout mask.
        let qkv, attention, probabilities, probabilityMask: ActivationPlan.Floats
        /// x after the attention residual [N × D], and the dropout mask of its branch.
        let middle, attentionMask: ActivationPlan.Floats
        let norm2, mean2, rstd2: ActivationPlan.Floats
        /// W₁ · LayerNorm₂ [N × H], GELU of it (after dropout) [N × H], its mask.
        let ff1, activation, activationMask: ActivationPlan.Floats
        /// The feed-forward branch's dropout mask [N × D].
        let ff2Mask: ActivationPlan.Floats
        /// The block's output [N × D]: the next block's input.
        let output: ActivationPlan.Floats
    }
    private struct Buffers {
        let blocks: [BlockBuffers]
        /// Final LayerNorm output [N × D], mean and 1/σ [N].
        let norm, mean, rstd: ActivationPlan.Floats
        /// Attention scratch, shared by the blocks.
        let scratch: ActivationPlan.Floats
        /// Backward scratch: two [N × D], one [N × H], one [N × 3D].
        let gradientA, gradientB, gradientH, gradientQKV: ActivationPlan.Floats
    }
    private let buffers: Buffers

    init(inputDim d: Int, heads: Int, blocks: Int, feedForwardDim h: Int, maxLength: Int, dropout: Double,
         layout: inout ParameterLayout, plan: inout ActivationPlan) {
        inputDim = d
        self.heads = heads
        self.blocks = blocks
        feedForwardDim = h
        self.maxLength = maxLength
        self.dropout = Float(dropout)
        position = layout.add("transformer.position", [maxLength, d])
        blockTensors = (0..<blocks).map { l in
            let p = "transformer.\(l)"
            return BlockTensors(
                norm1Weight: layout.add("\(p).norm1.weight", [d]), norm1Bias: layout.add("\(p).norm1.bias", [d]),
                inProjWeight: layout.add("\(p).attention.in_proj.weight", [3 * d, d]),
                inProjBias: layout.add("\(p).attention.in_proj.bias", [3 * d]),
                outProjWeight: layout.add("\(p).attention.out_proj.weight", [d, d]),
                outProjBias: layout.add("\(p).attention.out_proj.bias", [d]),
                norm2Weight: layout.add("\(p).norm2.weight", [d]), norm2Bias: layout.add("\(p).norm2.bias", [d]),
                ff1Weight: layout.add("\(p).ff1.weight", [h, d]), ff1Bias: layout.add("\(p).ff1.bias", [h]),
                ff2Weight: layout.add("\(p).ff2.weight", [d, h]), ff2Bias: layout.add("\(p).ff2.bias", [d]))
        }
        normWeight = layout.add("transformer.norm.weight", [d])
        normBias = layout.add("transformer.norm.bias", [d])

        let dropping = dropout > 0
        buffers = Buffers(
            blocks: (0..<blocks).map { l in
                BlockBuffers(
                    norm1: plan.floats("transformer \(l) norm1") { $0.rows * d },
                    mean1: plan.floats("transformer \(l) norm1 mean") { $0.rows },
                    rstd1: plan.floats("transformer \(l) norm1 1/σ") { $0.rows },
                    qkv: plan.floats("transformer \(l) q|k|v") { $0.rows * 3 * d },
                    attention: plan.floats("transformer \(l) attention heads") { $0.rows * d },
                    probabilities: plan.floats("transformer \(l) attention probabilities") {
                        SelfAttention.probabilityBound(rows: $0.rows, longest: $0.longest, heads: heads)
                    },
                    probabilityMask: plan.floats("transformer \(l) attention probability dropout mask") {
                        dropping ? SelfAttention.probabilityBound(rows: $0.rows, longest: $0.longest, heads: heads) : 0
                    },
                    middle: plan.floats("transformer \(l) after attention") { $0.rows * d },
                    attentionMask: plan.floats("transformer \(l) attention dropout mask") { dropping ? $0.rows * d : 0 },
                    norm2: plan.floats("transformer \(l) norm2") { $0.rows * d },
                    mean2: plan.floats("transformer \(l) norm2 mean") { $0.rows },
                    rstd2: plan.floats("transformer \(l) norm2 1/σ") { $0.rows },
                    ff1: plan.floats("transformer \(l) ff1") { $0.rows * h },
                    activation: plan.floats("transformer \(l) GELU") { $0.rows * h },
                    activationMask: plan.floats("transformer \(l) GELU dropout mask") { dropping ? $0.rows * h : 0 },
                    ff2Mask: plan.floats("transformer \(l) feed-forward dropout mask") { dropping ? $0.rows * d : 0 },
                    output: plan.floats("transformer \(l) output") { $0.rows * d })
            },
            norm: plan.floats("transformer final norm") { $0.rows * d },
            mean: plan.floats("transformer final norm mean") { $0.rows },
            rstd: plan.floats("transformer final norm 1/σ") { $0.rows },
            scratch: plan.floats("transformer attention scratch") { SelfAttention.scratchCount(longest: $0.longest, dim: d) },
            gradientA: plan.floats("transformer gradient A") { $0.rows * d },
            gradientB: plan.floats("transformer gradient B") { $0.rows * d },
            gradientH: plan.floats("transformer feed-forward gradient") { $0.rows * h },
            gradientQKV: plan.floats("transformer q|k|v gradient") { $0.rows * 3 * d })
    }

    func initialize(_ params: UnsafeMutablePointer<Float>, rng: inout SeededGenerator) {
        rng.fillNormal(params + position.offset, count: position.count, sigma: 1)
        func uniform(_ t: ParameterLayout.Tensor, _ bound: Float) {
            for k in 0..<t.count { params[t.offset + k] = rng.uniform(-bound, bound) }
        }
        func fill(_ t: ParameterLayout.Tensor, _ value: Float) { (params + t.offset).update(repeating: value, count: t.count) }
        let d = Float(inputDim), h = Float(feedForwardDim)
        for b in blockTensors {
            fill(b.norm1Weight, 1); fill(b.norm1Bias, 0)
            uniform(b.inProjWeight, (6 / (d + 3 * d)).squareRoot()); fill(b.inProjBias, 0)
            uniform(b.outProjWeight, 1 / d.squareRoot()); fill(b.outProjBias, 0)
            fill(b.norm2Weight, 1); fill(b.norm2Bias, 0)
            uniform(b.ff1Weight, 1 / d.squareRoot()); uniform(b.ff1Bias, 1 / d.squareRoot())
            uniform(b.ff2Weight, 1 / h.squareRoot()); uniform(b.ff2Bias, 1 / h.squareRoot())
        }
        fill(normWeight, 1); fill(normBias, 0)
    }

    // MARK: forward

    /// `embedded` becomes the first block's input (token + position embeddings).
    func forward(_ pass: Pass, embedded: UnsafeMutablePointer<Float>, features: UnsafeMutablePointer<Float>) {
        let ws = pass.workspace, p = pass.params, batch = pass.batch, n = pass.rows, d = inputDim, h = feedForwardDim
        let dropping = pass.training && dropout > 0
        PositionEmbedding.forward(x: embedded, batch: batch, dim: d, table: p + position.offset, maxLength: maxLength)
        var x = UnsafePointer(embedded)
        for (t, b) in zip(blockTensors, buffers.blocks) {
            let norm1 = ws[b.norm1], qkv = ws[b.qkv], attention = ws[b.attention], middle = ws[b.middle]
            LayerNorm.forward(x: x, rows: n, dim: d, gamma: p + t.norm1Weight.offset, beta: p + t.norm1Bias.offset,
                              out: norm1, mean: ws[b.mean1], rstd: ws[b.rstd1])
            pass.linear(x: norm1, rows: n, inputDim: d, outputDim: 3 * d, weight: t.inProjWeight,
                        bias: t.inProjBias, out: qkv)
            SelfAttention.forward(qkv: qkv, batch: batch, dim: d, heads: heads, out: attention,
                                  probabilities: ws[b.probabilities], scratch: ws[buffers.scratch],
                                  dropout: dropping ? .init(rate: dropout, mask: ws[b.probabilityMask]) : nil, rng: &ws.rng)
            pass.linear(x: attention, rows: n, inputDim: d, outputDim: d, weight: t.outProjWeight,
                        bias: t.outProjBias, out: middle)
            if dropping { Dropout.forward(middle, count: n * d, rate: dropout, mask: ws[b.attentionMask], rng: &ws.rng) }
            for i in 0..<(n * d) { middle[i] += x[i] }

            let norm2 = ws[b.norm2], ff1 = ws[b.ff1], activation = ws[b.activation], output = ws[b.output]
            LayerNorm.forward(x: middle, rows: n, dim: d, gamma: p + t.norm2Weight.offset, beta: p + t.norm2Bias.offset,
                              out: norm2, mean: ws[b.mean2], rstd: ws[b.rstd2])
            pass.linear(x: norm2, rows: n, inputDim: d, outputDim: h, weight: t.ff1Weight,
                        bias: t.ff1Bias, out: ff1)
            GELU.forward(x: ff1, count: n * h, out: activation)
            if dropping { Dropout.forward(activation, count: n * h, rate: dropout, mask: ws[b.activationMask], rng: &ws.rng) }
            pass.linear(x: activation, rows: n, inputDim: h, outputDim: d, weight: t.ff2Weight,
                        bias: t.ff2Bias, out: output)
            if dropping { Dropout.forward(output, count: n * d, rate: dropout, mask: ws[b.ff2Mask], rng: &ws.rng) }
            for i in 0..<(n * d) { output[i] += middle[i] }
            x = UnsafePointer(output)
        }
        let norm = ws[buffers.norm]
        LayerNorm.forward(x: x, rows: n, dim: d, gamma: p + normWeight.offset, beta: p + normBias.offset,
                          out: norm, mean: ws[buffers.mean], rstd: ws[buffers.rstd])
        SequencePooling.mean.forward(hidden: norm, width: d, batch: batch, pooled: features, argmax: nil)
    }

    // MARK: backward

    /// The residual stream's gradient accumulates in dEmbedded, from the top block down.
    func backward(_ pass: Pass, embedded: UnsafePointer<Float>, dFeatures: UnsafeMutablePointer<Float>,
                  dEmbedded: UnsafeMutablePointer<Float>, grads: UnsafeMutablePointer<Float>?) {
        let ws = pass.workspace, p = pass.params, batch = pass.batch, n = pass.rows, d = inputDim, h = feedForwardDim
        let dropping = pass.training && dropout > 0
        let dStream = dEmbedded, a = ws[buffers.gradientA], b2 = ws[buffers.gradientB]
        let dH = ws[buffers.gradientH], dQKV = ws[buffers.gradientQKV]
        func g(_ t: ParameterLayout.Tensor) -> UnsafeMutablePointer<Float>? { grads.map { $0 + t.offset } }
        func input(_ l: Int) -> UnsafePointer<Float> { l == 0 ? embedded : UnsafePointer(ws[buffers.blocks[l - 1].output]) }

        // Mean pooling, then the final LayerNorm into the stream's gradient.
        a.update(repeating: 0, count: n * d)
        SequencePooling.mean.backward(dPooled: dFeatures, width: d, batch: batch, argmax: nil, dHidden: a)
        dStream.update(repeating: 0, count: n * d)
        LayerNorm.backward(dOut: a, x: input(blocks), rows: n, dim: d, gamma: p + normWeight.offset,
                           mean: ws[buffers.mean], rstd: ws[buffers.rstd], dX: dStream, dGamma: g(normWeight), dBeta: g(normBias))
        for l in stride(from: blocks - 1, through: 0, by: -1) {
            let t = blockTensors[l], bb = buffers.blocks[l]
            // output = middle + Dropout(W₂ · activation): the branch's gradient, then down it.
            var dBranch = UnsafePointer(dStream)
            if dropping {
                let mask = ws[bb.ff2Mask]
                for i in 0..<(n * d) { b2[i] = dStream[i] * mask[i] }
                dBranch = UnsafePointer(b2)
            }
            Linear.backward(dOut: dBranch, x: ws[bb.activation], rows: n, inputDim: h, outputDim: d,
                            weight: p + t.ff2Weight.offset, dWeight: g(t.ff2Weight), dBias: g(t.ff2Bias), dx: dH)
            if dropping { Dropout.backward(dH, count: n * h, mask: ws[bb.activationMask]) }
            GELU.backward(dOut: dH, x: ws[bb.ff1], count: n * h, dX: dH)
            Linear.backward(dOut: dH, x: ws[bb.norm2], rows: n, inputDim: d, outputDim: h,
                            weight: p + t.ff1Weight.offset, dWeight: g(t.ff1Weight), dBias: g(t.ff1Bias), dx: a)
            LayerNorm.backward(dOut: a, x: ws[bb.middle], rows: n, dim: d, gamma: p + t.norm2Weight.offset,
                               mean: ws[bb.mean2], rstd: ws[bb.rstd2], dX: dStream,
                               dGamma: g(t.norm2Weight), dBeta: g(t.norm2Bias))
            // middle = x + Dropout(W_o · attention).
            dBranch = UnsafePointer(dStream)
            if dropping {
                let mask = ws[bb.attentionMask]
                for i in 0..<(n * d) { b2[i] = dStream[i] * mask[i] }
                dBranch = UnsafePointer(b2)
            }
            Linear.backward(dOut: dBranch, x: ws[bb.attention], rows: n, inputDim: d, outputDim: d,
                            weight: p + t.outProjWeight.offset, dWeight: g(t.outProjWeight), dBias: g(t.outProjBias), dx: a)
            SelfAttention.backward(dOut: a, qkv: ws[bb.qkv], probabilities: ws[bb.probabilities], batch: batch, dim: d,
                                   heads: heads, dQKV: dQKV, scratch: ws[buffers.scratch],
                                   dropoutMask: dropping ? UnsafePointer(ws[bb.probabilityMask]) : nil)
            Linear.backward(dOut: dQKV, x: ws[bb.norm1], rows: n, inputDim: d, outputDim: 3 * d,
                            weight: p + t.inProjWeight.offset, dWeight: g(t.inProjWeight), dBias: g(t.inProjBias), dx: a)
            LayerNorm.backward(dOut: a, x: input(l), rows: n, dim: d, gamma: p + t.norm1Weight.offset,
                               mean: ws[bb.mean1], rstd: ws[bb.rstd1], dX: dStream,
                               dGamma: g(t.norm1Weight), dBeta: g(t.norm1Bias))
        }
        // The positions were added to the embeddings: the same gradient reaches both.
        if let grads = grads {
            PositionEmbedding.backward(dX: dStream, batch: batch, dim: d, dTable: grads + position.offset, maxLength: maxLength)
        }
    }
}
