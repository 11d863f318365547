/// Activations and scratch for one thread's forward/backward passes: the buffers every
/// network shares (embedded inputs, pooled vectors, logits, probabilities and their
/// gradients) plus numbered extras each network type lays out for itself. Buffers grow
/// to the largest batch seen and are then reused, so steady-state steps do not allocate.
final class Workspace {
    let embedded = FloatBuffer(count: 0)
    let pooled = FloatBuffer(count: 0)
    let poolArgmax = IndexBuffer(count: 0)
    let logits = FloatBuffer(count: 0)
    let probs = FloatBuffer(count: 0)
    let dLogits = FloatBuffer(count: 0)
    let dPooled = FloatBuffer(count: 0)
    let dInput = FloatBuffer(count: 0)
    let batch = PackedBatch()

    /// True while training: dropout is applied only then.
    var training = false
    /// Source of dropout masks; the trainer reseeds it for every step and worker so a
    /// seed and thread count fix the masks.
    var rng = SeededGenerator(seed: 0)

    /// Numbered extra buffers a network may use for its own activations (each network
    /// type documents its numbering); created on first use.
    private var extras: [FloatBuffer] = []

    func extra(_ index: Int) -> FloatBuffer {
        while extras.count <= index { extras.append(FloatBuffer(count: 0)) }
        return extras[index]
    }
}
