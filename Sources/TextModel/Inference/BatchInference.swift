import Synchronization

/// Runs a network over encoded texts: the one inference loop, used by predictions,
/// evaluation and the trainer's validation.
///
/// Texts are processed longest first in groups of `groupSize`; each workspace's thread
/// takes the next group when it is free. A group's members do not depend on the number
/// of workspaces, so neither do the results. Every workspace is prepared for the largest
/// group before the first pass, so the passes themselves allocate nothing.
struct BatchInference {
    let network: Network
    let parameters: UnsafePointer<Float>
    /// Regression outputs are mapped back to the targets' units (classifiers: identity).
    var scaling: TargetScaling = .identity
    /// An int8 model's matrices: the products they replace run in int8 (nil: f32).
    var quantized: QuantizedWeights? = nil

    /// Texts per forward pass; any value gives the same results.
    static let groupSize = 256

    /// The largest group of `encoded`: what each workspace must hold.
    static func shape(of encoded: EncodedTexts) -> BatchShape {
        .bound(texts: min(encoded.count, groupSize), longest: max(encoded.longest, 1))
    }

    /// How many workspaces may predict `encoded` at once, at most `wanted`. A workspace
    /// holds one inference group's activations (the network's ActivationPlan at 256
    /// texts × the longest text): with tokenizer.max_length 100,000 and hidden_dim 4096
    /// that is terabytes, so the total is held to `maxMemoryMB` (a model's
    /// training.max_memory_mb, the cap its training ran under) by using fewer workspaces, which does not change
    /// the results. If even one does not fit, the call fails with TM_ERR_RESOURCE before
    /// any workspace is allocated.
    func workers(for encoded: EncodedTexts, wanted: Int, maxMemoryMB: Int) throws -> Int {
        guard encoded.count > 0 else { return wanted }
        let shape = BatchInference.shape(of: encoded)
        let size = shape.texts
        let perWorker = network.activationBytes(shape)
        let cap = maxMemoryMB * 1_048_576
        guard perWorker <= cap else {
            throw TextModelError.resource("predicting needs about \(perWorker / 1_048_576) MB of activations for \(size) texts of up to \(encoded.longest) tokens, more than the model's training.max_memory_mb = \(maxMemoryMB); predict fewer or shorter texts at a time")
        }
        return max(1, min(wanted, cap / max(perWorker, 1)))
    }

    /// Outputs [N × C] into `out`, row i for text i (see Network.outputs).
    func outputs(of encoded: EncodedTexts, into out: UnsafeMutablePointer<Float>, workspaces: [Workspace],
                 inputTable: InputProjectionTable? = nil) throws {
        var order = [Int]()
        try outputs(of: encoded, into: out, workspaces: workspaces, inputTable: inputTable, order: &order)
    }

    /// `order`: room for the texts' longest-first order, reused (a pooled one-thread
    /// call allocates nothing once its buffers have grown).
    func outputs(of encoded: EncodedTexts, into out: UnsafeMutablePointer<Float>, workspaces: [Workspace],
                 inputTable: InputProjectionTable?, order: inout [Int]) throws {
        let c = network.classes
        let unscale = scaling != .identity
        try run(encoded, workspaces: workspaces, inputTable: inputTable, order: &order) { ws, b, index in
            (out + index * c).update(from: network.outputs(ws) + b * c, count: c)
            if unscale {
                for j in 0..<c { out[index * c + j] = scaling.unscale(out[index * c + j]) }
            }
        }
    }

    /// Features [N × F] into `out`, row i for text i: the pooled encoder output each
    /// text's output layer reads (its sentence vector).
    func features(of encoded: EncodedTexts, into out: UnsafeMutablePointer<Float>, workspaces: [Workspace],
                  inputTable: InputProjectionTable? = nil) throws {
        var order = [Int]()
        try features(of: encoded, into: out, workspaces: workspaces, inputTable: inputTable, order: &order)
    }

    func features(of encoded: EncodedTexts, into out: UnsafeMutablePointer<Float>, workspaces: [Workspace],
                  inputTable: InputProjectionTable?, order: inout [Int]) throws {
        let f = network.encoder.featureDim
        try run(encoded, workspaces: workspaces, inputTable: inputTable, order: &order) { ws, b, index in
            (out + index * f).update(from: ws[network.buffers.features] + b * f, count: f)
        }
    }

    /// The loop: forward passes over the groups; `copy(workspace, b, i)` takes row b of
    /// a group's results as text i's.
    private func run(_ encoded: EncodedTexts, workspaces: [Workspace], inputTable: InputProjectionTable?,
                     order: inout [Int], copy: (Workspace, Int, Int) -> Void) throws {
        guard encoded.count > 0 else { return }
        let shape = BatchInference.shape(of: encoded)
        for ws in workspaces { try ws.prepare(for: shape) }
        // In place (heapSort: Array.sort's merge buffer would allocate).
        order.removeAll(keepingCapacity: true)
        order.append(contentsOf: 0..<encoded.count)
        order.heapSort { a, b in
            encoded.length(a) != encoded.length(b) ? encoded.length(a) > encoded.length(b) : a < b
        }
        let sorted = order
        let groupSize = BatchInference.groupSize
        let groups = (sorted.count + groupSize - 1) / groupSize
        let misfit = Atomic<Bool>(false)   // a group larger than its workspace's shape: a planning bug
        // The workers read the shared ids, offsets and order through raw pointers: a
        // slice per text would retain and release the shared arrays from every thread.
        encoded.withUnsafeStorage { ids, offsets in
            sorted.withUnsafeBufferPointer { sorted in
                Parallel.forEach(groups, workers: min(workspaces.count, groups)) { g, w in
                    let ws = workspaces[w]
                    let first = g * groupSize, rows = min(groupSize, sorted.count - first)
                    ws.batch.pack(count: rows, ids: ids) { b in
                        let i = sorted[first + b]
                        return offsets[i]..<offsets[i + 1]
                    }
                    guard BatchShape(ws.batch).fits(in: ws.shape) else { misfit.store(true, ordering: .relaxed); return }
                    network.forward(parameters, workspace: ws, inputTable: inputTable, quantized: quantized)
                    for b in 0..<rows { copy(ws, b, sorted[first + b]) }
                }
            }
        }
        if misfit.load(ordering: .relaxed) { throw TextModelError(.internal, "an inference group is larger than its workspace was prepared for") }
    }
}
