import CKernels

/// A text network composed of parts: an input stage (token Embedding or EmbeddingBag),
/// an Encoder, the output Linear and a Loss.
///
///   ids ─ input ─▶ embedded [N × E] ─ encoder ─▶ features [B × F] ─ output ─▶ logits [B × C]
///                                                               ─ loss.activate ─▶ outputs [B × C]
///
/// `outputs` are class probabilities (softmax or per-label sigmoid) or, for regression,
/// the predicted value (C = 1). All weights live in one flat buffer described by
/// `layout` (input stage's tensors, then the encoder's, then output.weight [C × F] and
/// output.bias [C]); every buffer a pass uses is declared in `plan` and lives in a
/// Workspace. The network holds no mutable state: one network and one parameter
/// buffer serve many threads at once, each with its own Workspace.
struct Network {
    let input: InputStage
    let encoder: any Encoder
    let loss: any Loss
    /// Outputs per text: the number of labels, or 1 for regression.
    let classes: Int
    let layout: ParameterLayout
    let plan: ActivationPlan

    let outputWeight: ParameterLayout.Tensor
    let outputBias: ParameterLayout.Tensor

    /// Buffers of the plan the network itself uses.
    struct Buffers {
        let embedded, features, logits, outputs: ActivationPlan.Floats
        let dLogits, dFeatures, dEmbedded: ActivationPlan.Floats
    }
    let buffers: Buffers
    /// A compressed bag model's input (format 4): replaces the table's rows, which the
    /// layout then holds none of (embedding.weight is [0 × E]). Nil for every other model.
    var quantizedInput: QuantizedBagInput? = nil

    /// Builds a network from its parts; `makeEncoder` registers the encoder's tensors
    /// and buffers after the input stage's (see NetworkBuilder).
    init(input kind: InputStage.Kind, rows: Int, embeddingDim e: Int, classes: Int, task: Config.Task,
         makeEncoder: (inout ParameterLayout, inout ActivationPlan) -> any Encoder) {
        var layout = ParameterLayout(), plan = ActivationPlan()
        input = InputStage(kind: kind, rows: rows, dim: e, layout: &layout)
        let encoder = makeEncoder(&layout, &plan)
        self.encoder = encoder
        let f = encoder.featureDim
        outputWeight = layout.add("output.weight", [classes, f])
        outputBias = layout.add("output.bias", [classes])
        self.classes = classes
        loss = makeLoss(task: task)
        buffers = Buffers(
            embedded: plan.floats("embedded tokens [N × E]") { $0.rows * e },
            features: plan.floats("features [B × F]") { $0.texts * f },
            logits: plan.floats("logits [B × C]") { $0.texts * classes },
            outputs: plan.floats("outputs [B × C]") { $0.texts * classes },
            dLogits: plan.floats("gradient of the logits [B × C]") { $0.texts * classes },
            dFeatures: plan.floats("gradient of the features [B × F]") { $0.texts * f },
            dEmbedded: plan.floats("gradient of the embedded tokens [N × E]") { $0.rows * e })
        self.layout = layout
        self.plan = plan
    }

    /// The table looked up by feature id; gradients touch only the rows of a batch's ids.
    var embeddingTensor: ParameterLayout.Tensor { input.table }

    func initialize(_ params: UnsafeMutablePointer<Float>, rng: inout SeededGenerator) {
        input.initialize(params, encoder.embeddingInitialization, rng: &rng)
        encoder.initialize(params, rng: &rng)
        switch encoder.outputInitialization {
        case .zeros:
            (params + outputWeight.offset).update(repeating: 0, count: outputWeight.count + outputBias.count)
        case .fanIn:
            let bound = 1 / Float(encoder.featureDim).squareRoot()
            for t in [outputWeight, outputBias] {
                for k in 0..<t.count { params[t.offset + k] = rng.uniform(-bound, bound) }
            }
        }
    }

    // MARK: forward

    /// Runs the batch in `workspace.batch` from its token ids; the outputs are then in
    /// `outputs(workspace)` [B × C]. At inference, `inputTable` (the encoder's table of
    /// these weights, or nil) replaces the embeddings and the first projection.
    /// The workspace must be prepared for the batch's shape.
    /// `quantized` (an int8 model's matrices, inference only) routes the products it
    /// holds through int8 kernels (Pass.linear, InputStage+Quantized).
    func forward(_ params: UnsafePointer<Float>, workspace ws: Workspace, inputTable: InputProjectionTable? = nil,
                 quantized: QuantizedWeights? = nil) {
        var pass = Pass(params: params, batch: ws.batch, workspace: ws)
        if !ws.training { pass.quantized = quantized }
        let features = ws[buffers.features]
        if let quantized = quantizedInput {
            quantized.bagMean(pass, into: features)
        } else if input.kind == .embeddingBag {
            if let table = pass.quantized?[input.table] { input.bagMean(pass, quantizedTable: table, into: features) }
            else { input.bagMean(pass, into: features) }
        } else if !usedTable(inputTable, pass, features) {
            let embedded = ws[buffers.embedded]
            input.embed(pass, into: embedded)
            encoder.forward(pass, embedded: embedded, features: features)
        }
        head(pass)
    }

    /// Runs the batch in `workspace.batch` from given input embeddings [N × E] (one row
    /// per packed row, as `embed` would have looked them up) instead of its token ids.
    func forward(_ params: UnsafePointer<Float>, workspace ws: Workspace, embeddings: UnsafePointer<Float>) {
        let pass = Pass(params: params, batch: ws.batch, workspace: ws)
        let embedded = ws[buffers.embedded]
        embedded.update(from: embeddings, count: pass.rows * input.dim)
        encoder.forward(pass, embedded: embedded, features: ws[buffers.features])
        head(pass)
    }

    /// Whether the encoder ran from the inference table (never while training).
    private func usedTable(_ table: InputProjectionTable?, _ pass: Pass, _ features: UnsafeMutablePointer<Float>) -> Bool {
        guard let table = table, !pass.training else { return false }
        return encoder.forward(pass, table: table, features: features)
    }

    func head(_ pass: Pass) {
        let ws = pass.workspace
        if pass.texts == 1 && Network.oneRowHead && encoder.featureDim <= 256 && !pass.training
            && pass.quantized?[outputWeight] == nil {
            // One text at inference (predict_one, a batch of one): the row kernel's
            // sums are OpenBLAS's (see linear_row.c) without sgemm's set-up.
            tm_linear_row_fma(ws[buffers.features], pass.params + outputWeight.offset, pass.params + outputBias.offset,
                              encoder.featureDim, classes, ws[buffers.logits])
        } else {
            pass.linear(x: ws[buffers.features], rows: pass.texts, inputDim: encoder.featureDim, outputDim: classes,
                        weight: outputWeight, bias: outputBias, out: ws[buffers.logits])
        }
        loss.activate(logits: ws[buffers.logits], rows: pass.texts, width: classes, outputs: ws[buffers.outputs])
    }

    /// Whether `head` may run a one-text batch through tm_linear_row_fma: where it
    /// gives OpenBLAS's floats (and the CPU has FMA).
    static let oneRowHead = tm_kernels_fma() != 0 && BLAS.runsHaswellSgemm

    /// The outputs of the last forward pass [B × C].
    func outputs(_ ws: Workspace) -> UnsafeMutablePointer<Float> { ws[buffers.outputs] }

    // MARK: backward

    /// Adds the gradient of the batch's loss (see LossTargets) into `grads`; call after
    /// `forward` on the same workspace.
    func backward(_ params: UnsafePointer<Float>, loss targets: LossTargets, workspace ws: Workspace,
                  grads: UnsafeMutablePointer<Float>) {
        loss.backward(outputs: ws[buffers.outputs], rows: ws.batch.size, width: classes, targets: targets,
                      dLogits: ws[buffers.dLogits])
        backwardFromLogits(params, workspace: ws, grads: grads)
    }

    /// The gradient of whatever `logitGradient(ws)` [B × C] holds the gradient of,
    /// back to the input embeddings: returns dEmbedded [N × E] (in the workspace); adds
    /// the parameter gradients into `grads` only when it is given.
    @discardableResult
    func backwardFromLogits(_ params: UnsafePointer<Float>, workspace ws: Workspace,
                            grads: UnsafeMutablePointer<Float>?) -> UnsafeMutablePointer<Float> {
        let pass = Pass(params: params, batch: ws.batch, workspace: ws)
        let dFeatures = ws[buffers.dFeatures], dEmbedded = ws[buffers.dEmbedded]
        Linear.backward(dOut: ws[buffers.dLogits], x: ws[buffers.features], rows: pass.texts, inputDim: encoder.featureDim,
                        outputDim: classes, weight: params + outputWeight.offset,
                        dWeight: grads.map { $0 + outputWeight.offset }, dBias: grads.map { $0 + outputBias.offset },
                        dx: dFeatures)
        encoder.backward(pass, embedded: ws[buffers.embedded], dFeatures: dFeatures, dEmbedded: dEmbedded, grads: grads)
        if let grads = grads { input.backward(pass, dEmbedded: dEmbedded, grads: grads) }
        return dEmbedded
    }

    /// Where the backward pass reads the gradient of the logits [B × C]: callers that
    /// differentiate something other than the loss (attributions) write it here.
    func logitGradient(_ ws: Workspace) -> UnsafeMutablePointer<Float> { ws[buffers.dLogits] }

    // MARK: shapes and workspaces

    /// A workspace of this network's plan, with nothing allocated yet.
    func makeWorkspace() -> Workspace { Workspace(plan: plan) }

    /// Bytes of activations for a batch of `shape`.
    func activationBytes(_ shape: BatchShape) -> Int { plan.bytes(for: shape) }

    var inputTableShape: InputTableShape? { encoder.inputTableShape(vocabulary: input.rows) }

    /// The encoder's inference table for weights `params` (nil: it has none, or no memory).
    func makeInputTable(_ params: UnsafePointer<Float>, threads: Int) -> InputProjectionTable? {
        InputProjectionTable(encoder: encoder, params: params, embeddings: params + input.table.offset,
                             vocabulary: input.rows, threads: threads)
    }
}
