// The library's internal readers, opened to the fuzz targets: the pretrained-vectors
// parser, the checkpoint loader and the vocabulary tensor decoder take bytes here, without a training run around
// them. They live in the fuzz package, not in the shipped library: fuzz/run.sh builds
// with -enable-testing so that this file may `@testable import TextModel`.
@testable import TextModel

public enum FuzzingEntryPoints {
    /// The tokens of a format-5 model file's vocabulary tensor (VocabularyTensor), or
    /// nil if they do not decode: the model-file target predicts a text of them.
    public static func vocabularyTensor(_ bytes: ArraySlice<UInt8>, count: Int) -> [String]? {
        try? VocabularyTensor.decode(bytes, count: count, bad: { TextModelError.modelFormat($0) })
    }

    /// PretrainedVectors.parse of `bytes` for a vocabulary of `words` and rows of `dim`
    /// numbers: how many vocabulary words the file had, and the [V × dim] table.
    public static func pretrainedVectors(_ bytes: [UInt8], words: [String], dim: Int) throws -> (found: Int, table: [Float]) {
        let vocabulary = Vocabulary.build(from: [words], minFreq: 1, maxSize: 1_000)
        var table = [Float](repeating: 0, count: vocabulary.count * dim)
        let found = try table.withUnsafeMutableBufferPointer {
            try PretrainedVectors.parse(bytes, source: "fuzz-input.vec", vocabulary: vocabulary, dim: dim, into: $0.baseAddress!)
        }
        return (found, table)
    }

    /// The run every fuzzed checkpoint is loaded into: 64 weights, Adam, 10 examples,
    /// optionally early stopping's best weights. Seeds come from `checkpointSeed`.
    static let checkpointIdentity = TrainingCheckpoint.Identity(config: #"{"fuzz":{"run":1}}"#, data: 0x1234_5678)
    static let checkpointWeights = 64
    static let checkpointExamples = 10

    private static func checkpointRun(best: Bool) throws -> (FloatBuffer, Optimizer, FloatBuffer?) {
        let buffer = { try FloatBuffer.allocate(count: checkpointWeights, what: "fuzzing weights") }
        return (try buffer(),
                Adam(learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0, decoupled: false,
                     m: try buffer(), v: try buffer()),
                best ? try buffer() : nil)
    }

    /// TrainingCheckpoint.load of `bytes` into that run: the epoch it resumes after and
    /// the example order it restores.
    public static func loadCheckpoint(_ bytes: [UInt8], earlyStopping: Bool) throws -> (epoch: Int, order: [Int]) {
        var (parameters, optimizer, best) = try checkpointRun(best: earlyStopping)
        var order = Array(0..<Int32(checkpointExamples))
        let checkpoint = try TrainingCheckpoint.load(bytes: bytes, source: "fuzz-input.ckpt", identity: checkpointIdentity,
                                                     parameters: parameters, count: checkpointWeights, order: &order,
                                                     optimizer: &optimizer, best: best)
        return (checkpoint.epoch, order.map(Int.init))
    }

    /// A valid checkpoint of that run, written through `path` (seed corpus).
    public static func writeCheckpointSeed(to path: String, epoch: Int, earlyStopping: Bool) throws {
        let (parameters, optimizer, best) = try checkpointRun(best: earlyStopping)
        for i in 0..<checkpointWeights { parameters.pointer[i] = Float(i) * 0.25 - 3 }
        var epochs = [TrainingReport.Epoch]()
        for e in 1...max(epoch, 1) {
            epochs.append(.init(epoch: e, trainLoss: 1 / Double(e), validLoss: earlyStopping ? 0.5 : nil,
                                validAccuracy: earlyStopping ? 0.75 : nil, seconds: 0.1))
        }
        let stopping = earlyStopping ? EarlyStopping.State(bestEpoch: 1, bestValue: 0.5, epochsWithoutImprovement: epoch - 1) : nil
        let checkpoint = TrainingCheckpoint(epoch: epoch, step: 3 * epoch, examplesSeen: 10 * epoch, seconds: 0.1 * Double(epoch),
                                            rng: SeededGenerator(seed: 7), earlyStopping: stopping, epochs: epochs)
        try checkpoint.save(to: path, identity: checkpointIdentity, parameters: parameters, count: checkpointWeights,
                            order: Array((0..<Int32(checkpointExamples)).reversed()), optimizer: optimizer, best: best)
    }
}
