import CKernels

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

    /// Embeddings U(−1/√E, 1/√E), the classifier starts at zero. fastText draws from
    /// ±1/E; at E = 100 that is ten times smaller, and the mean of a long text's (or many
    /// hashed features') embeddings then starts so close to zero that SGD sits on the
    /// zero-gradient plateau for epochs: bench/default_model.py measured 5 epochs at
    /// chance accuracy on long texts, on 60 classes and on 400 short texts with ±1/E,
    /// against 0.57-1.00 with ±1/√E, and tweets unchanged (0.767 against 0.766).
    func initialize(_ params: UnsafeMutablePointer<Float>, rng: inout SeededGenerator) {
        let bound = 1 / Float(embeddingDim).squareRoot()
        for k in 0..<embeddingTensor.count { params[embeddingTensor.offset + k] = rng.uniform(-bound, bound) }
        (params + outputWeight.offset).update(repeating: 0, count: outputWeight.count + outputBias.count)
    }

    func workspaceBytes(rows: Int, size: Int) -> Int {
        4 * (2 * rows * embeddingDim + size * (2 * embeddingDim + 3 * classes))
    }

    func forward(_ params: UnsafePointer<Float>, batch: PackedBatch, workspace ws: Workspace) {
        let e = embeddingDim
        ws.pooled.reserve(batch.size * e)
        ws.logits.reserve(batch.size * classes)
        ws.probs.reserve(batch.size * classes)
        // Each text's mean embedding, summed straight from the table in token order: the
        // sums Embedding.forward + SequencePooling.mean make, to the bit, without
        // copying every token's row into an [N × E] buffer first (a third of the time
        // of a bag prediction went to that copy). The backward pass never needs it.
        let table = params + embeddingTensor.offset
        batch.tokens.withUnsafeBufferPointer { ids in
            for b in 0..<batch.size {
                let out = ws.pooled.pointer + b * e
                out.update(repeating: 0, count: e)
                let length = batch.lengths[b]
                guard length > 0 else { continue }
                for t in 0..<min(BagNetwork.prefetchDistance, length) {
                    tm_prefetch_row(table + Int(ids[batch.stepOffsets[t] + b]) * e, 4 * e)
                }
                for t in 0..<length {
                    if t + BagNetwork.prefetchDistance < length {
                        tm_prefetch_row(table + Int(ids[batch.stepOffsets[t + BagNetwork.prefetchDistance] + b]) * e, 4 * e)
                    }
                    let row = table + Int(ids[batch.stepOffsets[t] + b]) * e
                    for j in 0..<e { out[j] += row[j] }
                }
                let scale = 1 / Float(length)
                for j in 0..<e { out[j] *= scale }
            }
        }
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

    /// How many tokens ahead the row sums ask for rows (tm_prefetch_row): far enough
    /// for a row to arrive from memory while the rows before it are added.
    static let prefetchDistance = 4

    /// Floats of scratch `sgdStep` needs: hidden and its gradient [E], logits,
    /// probabilities and their gradient [C].
    var sgdScratchCount: Int { 2 * embeddingDim + 3 * classes }

    /// One plain-SGD step on one example, as fastText does it: forward, loss, and the
    /// update of the output layer and of the example's embedding rows, written straight
    /// into `params` without a gradient buffer. The backward pass of `backward` plus
    /// `θ ← θ − lr·g`, fused: only the rows the example uses are touched, so threads
    /// may run steps on one shared `params` at once (HogwildTrainer). A feature id the
    /// text holds k times gets k updates of 1/n each, where `backward` sums them first:
    /// the same step up to float rounding.
    ///
    /// `ids`: the example's feature ids (n of them; none is valid). `loss`: its one
    /// target row. `scratch`: `sgdScratchCount` floats of this thread's own.
    /// Returns the example's loss as `SoftmaxCrossEntropy.loss` counts it, and whether
    /// the forward pass's argmax was the target (training accuracy; free to tell here,
    /// where the probabilities already are).
    @discardableResult
    func sgdStep(_ params: UnsafeMutablePointer<Float>, ids: UnsafeBufferPointer<Int32>, loss: LossTargets,
                 learningRate lr: Float, updateEmbeddings: Bool,
                 scratch: UnsafeMutablePointer<Float>) -> (loss: Double, correct: Bool) {
        let e = embeddingDim, c = classes
        let hidden = scratch, dHidden = scratch + e
        let logits = scratch + 2 * e, probs = logits + c, dLogits = probs + c
        let table = params + embeddingTensor.offset
        let weight = params + outputWeight.offset, bias = params + outputBias.offset

        hidden.update(repeating: 0, count: e)
        let n = ids.count, ahead = BagNetwork.prefetchDistance
        for k in 0..<min(ahead, n) { tm_prefetch_row(table + Int(ids[k]) * e, 4 * e) }
        for k in 0..<n {
            if k + ahead < n { tm_prefetch_row(table + Int(ids[k + ahead]) * e, 4 * e) }
            let row = table + Int(ids[k]) * e
            for j in 0..<e { hidden[j] += row[j] }
        }
        if !ids.isEmpty {
            let scale = 1 / Float(ids.count)
            for j in 0..<e { hidden[j] *= scale }
        }
        for k in 0..<c {
            let w = weight + k * e
            var sum: Float = 0
            for j in 0..<e { sum += w[j] * hidden[j] }
            logits[k] = sum + bias[k]
        }
        SoftmaxCrossEntropy.softmax(logits: logits, rows: 1, classes: c, probs: probs)
        let value = SoftmaxCrossEntropy.loss(probs: probs, rows: 1, classes: c, loss: loss)
        let correct = loss.targets.map { argmax(probs, c) == Int($0[0]) } ?? false
        SoftmaxCrossEntropy.backward(probs: probs, rows: 1, classes: c, loss: loss, dLogits: dLogits)

        // dHidden takes each output weight before that weight's own update.
        dHidden.update(repeating: 0, count: e)
        for k in 0..<c {
            let g = dLogits[k], w = weight + k * e
            for j in 0..<e {
                dHidden[j] += g * w[j]
                w[j] -= lr * g * hidden[j]
            }
            bias[k] -= lr * g
        }
        if updateEmbeddings && !ids.isEmpty {
            let step = lr / Float(ids.count)
            for id in ids {
                let row = table + Int(id) * e
                for j in 0..<e { row[j] -= step * dHidden[j] }
            }
        }
        return (value, correct)
    }
}
