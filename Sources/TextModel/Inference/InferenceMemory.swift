#if canImport(Glibc)
import Glibc
#endif

extension TrainedModel {
    /// How many workspaces may predict `encoded` at once, at most `wanted`. A workspace
    /// holds one inference group's activations (the network's ActivationPlan at 256
    /// texts × the longest text): with tokenizer.max_length 100,000 and hidden_dim 4096
    /// that is terabytes, so the total is held to the model's training.max_memory_mb
    /// (the cap its training ran under) by using fewer workspaces, which does not change
    /// the results. If even one does not fit, the call fails with TM_ERR_RESOURCE before
    /// any workspace is allocated.
    func inferenceWorkers(for encoded: EncodedTexts, wanted: Int) throws -> Int {
        guard encoded.count > 0 else { return wanted }
        let shape = BatchInference.shape(of: encoded)
        let size = shape.texts
        let perWorker = network.activationBytes(shape)
        let cap = config.training.maxMemoryMB * 1_048_576
        guard perWorker <= cap else {
            throw TextModelError.resource("predicting needs about \(perWorker / 1_048_576) MB of activations for \(size) texts of up to \(encoded.longest) tokens, more than the model's training.max_memory_mb = \(config.training.maxMemoryMB); predict fewer or shorter texts at a time")
        }
        return max(1, min(wanted, cap / max(perWorker, 1)))
    }

    /// Fails with TM_ERR_RESOURCE if malloc cannot provide `bytes` now. Large blocks are
    /// mapped, not touched, so the probe costs a system call, not the memory.
    static func probeMemory(_ bytes: Int, what: String) throws {
        guard let p = malloc(max(bytes, 1)) else {
            throw TextModelError.resource("out of memory: \(what) needs about \((bytes + 1_048_575) / 1_048_576) MB that the system could not provide")
        }
        free(p)
    }
}
