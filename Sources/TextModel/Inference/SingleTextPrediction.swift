/// One text's prediction with nothing per call that one text does not need: no thread
/// start, no String of an ASCII C text, no [String] or EncodedTexts of one, no output
/// matrix, no sort. Once warm a call allocates nothing: each slot keeps its encoder
/// scratch and a workspace grown to the longest text it has seen, and the pool keeps the
/// slots (as many as calls ever ran at once).
///
/// The arithmetic is BatchInference's for a group of one text (the same encoder,
/// workspace packing, forward pass and input-table choice as `outputs(of:)` for a
/// one-text batch), so a text's label and probability are those of predicting it
/// alone in a batch, bit for bit.
final class SingleTextPrediction {
    /// One call's working memory.
    final class Slot {
        /// Unchecked: one call at a time holds a slot (the pool's lock hands it over), so
        /// the per-call dynamic exclusivity check (a thread-local access set) finds nothing.
        @exclusivity(unchecked) var scratch = FeatureEncoder.Scratch()
        let workspace: Workspace
        init(workspace: Workspace) { self.workspace = workspace }
    }

    private let slots: ReusePool<Slot>

    init(network: Network) {
        slots = ReusePool { Slot(workspace: network.makeWorkspace()) }
    }

    /// Runs `body` with a slot no other call is using, then keeps it.
    func withSlot<R>(_ body: (Slot) throws -> R) rethrows -> R { try slots.withOne(body) }
}

extension TrainedModel {
    /// The most probable label of one text given as UTF-8 bytes, and its probability:
    /// row 0 of `outputs(of: [text])` and its first maximum (the lowest index among
    /// ties, as top-k prediction orders them). A classifier's only; `maxMemoryMB` as
    /// BatchInference.workers.
    func topLabel(utf8 text: UnsafeBufferPointer<UInt8>) throws -> (label: Int, probability: Float) {
        try single.withSlot { slot in
            encoder.encode(utf8: text, scratch: &slot.scratch)
            let ids = slot.scratch.ids
            let shape = BatchShape.bound(texts: 1, longest: max(ids.count, 1))
            let ws = slot.workspace
            // A slot's shape is always one earlier call's (one text: the union of two
            // shapes is the larger), which passed the check: a text that fits needs no
            // second look at the plan.
            if !shape.fits(in: ws.shape) {
                let bytes = network.activationBytes(shape), cap = config.training.maxMemoryMB * 1_048_576
                guard bytes <= cap else {
                    throw TextModelError.resource("predicting needs about \(bytes / 1_048_576) MB of activations for a text of \(ids.count) tokens, more than the model's training.max_memory_mb = \(config.training.maxMemoryMB); predict a shorter text")
                }
                try ws.prepare(for: shape)
            }
            ws.batch.pack(CollectionOfOne(ids[...]))
            // `quantized` as BatchInference passes it: an int8 model's one-text call runs
            // the int8 products its batch calls run.
            network.forward(parameters.pointer, workspace: ws,
                            inputTable: inputTable(tokens: ids.count, threads: 1), quantized: quantized)
            let out = network.outputs(ws)
            let best = argmax(out, network.classes)
            return (best, out[best])
        }
    }
}
