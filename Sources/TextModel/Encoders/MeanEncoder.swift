/// The bag model's encoder: each text's feature vector is the mean of its token
/// embeddings (F = E). From token ids the network computes that mean straight from the
/// table (InputStage.embeddingBag), so `forward` runs only from given embeddings;
/// `backward` always runs.
///
/// Initialization is the bag recipe: embeddings U(−1/√E, 1/√E), the classifier at zero.
/// fastText draws from ±1/E; at E = 100 that is ten times smaller, and the mean of a long
/// text's (or many hashed features') embeddings then starts so close to zero that SGD
/// sits on the zero-gradient plateau for epochs (bench/NOTES.md, default model).
struct MeanEncoder: Encoder {
    let inputDim: Int
    var featureDim: Int { inputDim }
    var embeddingInitialization: EmbeddingInitialization { .uniform(1 / Float(inputDim).squareRoot()) }
    var outputInitialization: OutputInitialization { .zeros }

    init(dim: Int) { inputDim = dim }

    func initialize(_ params: UnsafeMutablePointer<Float>, rng: inout SeededGenerator) {}

    func forward(_ pass: Pass, embedded: UnsafeMutablePointer<Float>, features: UnsafeMutablePointer<Float>) {
        SequencePooling.mean.forward(hidden: embedded, width: inputDim, batch: pass.batch, pooled: features, argmax: nil)
    }

    func backward(_ pass: Pass, embedded: UnsafePointer<Float>, dFeatures: UnsafeMutablePointer<Float>,
                  dEmbedded: UnsafeMutablePointer<Float>, grads: UnsafeMutablePointer<Float>?) {
        dEmbedded.update(repeating: 0, count: pass.rows * inputDim)
        SequencePooling.mean.backward(dPooled: dFeatures, width: inputDim, batch: pass.batch, argmax: nil, dHidden: dEmbedded)
    }
}
