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
