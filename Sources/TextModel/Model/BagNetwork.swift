/// fastText-style bag of embeddings: the embeddings of a text's words and hashed
/// n-grams are averaged, then a linear layer and softmax classify the average.
///
/// Layout: embedding.weight [F × E] (F = vocabulary + hash buckets),
///         output.weight [C × E], output.bias [C].
struct BagNetwork: TextNetwork {
    let features: Int
    let embeddingDim: Int
    let classes: Int
    let head: OutputHead
    let layout: ParameterLayout
    let embeddingTensor: ParameterLayout.Tensor
    private let outputWeight: ParameterLayout.Tensor
    private let outputBias: ParameterLayout.Tensor

    init(features: Int, classes: Int, config: Config.Model) {
        self.features = features
        self.classes = classes
        head = OutputHead(task: config.task)
        embeddingDim = config.embeddingDim
        var layout = ParameterLayout()
        embeddingTensor = layout.add("embedding.weight", [features, embeddingDim])
        outputWeight = layout.add("output.weight", [classes, embeddingDim])
        outputBias = layout.add("output.bias", [classes])
        self.layout = layout
    }

    /// As fastText: embeddings U(-1/E, 1/E), the classifier starts at zero.
    func initialize(_ params: UnsafeMutablePointer<Float>, rng: inout SeededGenerator) {
        let bound = 1 / Float(embeddingDim)
        for k in 0..<embeddingTensor.count { params[embeddingTensor.offset + k] = rng.uniform(-bound, bound) }
        (params + outputWeight.offset).update(repeating: 0, count: outputWeight.count + outputBias.count)
    }

    func workspaceBytes(rows: Int, size: Int) -> Int {
        4 * (2 * rows * embeddingDim + size * (2 * embeddingDim + 3 * classes))
    }

    func forward(_ params: UnsafePointer<Float>, batch: PackedBatch, workspace ws: Workspace) {
        let n = batch.totalRows, e = embeddingDim
        ws.embedded.reserve(n * e)
        ws.pooled.reserve(batch.size * e)
        ws.logits.reserve(batch.size * classes)
        ws.probs.reserve(batch.size * classes)
        batch.tokens.withUnsafeBufferPointer { ids in
            if let base = ids.baseAddress {
                Embedding.forward(table: params + embeddingTensor.offset, dim: e, ids: base, count: n, out: ws.embedded.pointer)
            }
        }
        SequencePooling.mean.forward(hidden: ws.embedded.pointer, width: e, batch: batch,
                                     pooled: ws.pooled.pointer, argmax: ws.poolArgmax.pointer)
        Linear.forward(x: ws.pooled.pointer, rows: batch.size, inputDim: e, outputDim: classes,
                       weight: params + outputWeight.offset, bias: params + outputBias.offset, out: ws.logits.pointer)
        head.activate(logits: ws.logits.pointer, rows: batch.size, width: classes, outputs: ws.probs.pointer)
    }

    func backward(_ params: UnsafePointer<Float>, batch: PackedBatch, loss: LossTargets,
                  workspace ws: Workspace, grads: UnsafeMutablePointer<Float>) {
        let n = batch.totalRows, e = embeddingDim
        ws.dLogits.reserve(batch.size * classes)
        ws.dPooled.reserve(batch.size * e)
        ws.dInput.reserve(n * e)
        head.backward(outputs: ws.probs.pointer, rows: batch.size, width: classes, targets: loss,
                                     dLogits: ws.dLogits.pointer)
        Linear.backward(dOut: ws.dLogits.pointer, x: ws.pooled.pointer, rows: batch.size, inputDim: e, outputDim: classes,
                        weight: params + outputWeight.offset, dWeight: grads + outputWeight.offset,
                        dBias: grads + outputBias.offset, dx: ws.dPooled.pointer)
        ws.dInput.pointer.update(repeating: 0, count: n * e)
        SequencePooling.mean.backward(dPooled: ws.dPooled.pointer, width: e, batch: batch,
                                      argmax: ws.poolArgmax.pointer, dHidden: ws.dInput.pointer)
        batch.tokens.withUnsafeBufferPointer { ids in
            if let base = ids.baseAddress {
                Embedding.backward(dOut: ws.dInput.pointer, dim: e, ids: base, count: n, dTable: grads + embeddingTensor.offset)
            }
        }
    }
}
