#if canImport(Glibc)
import Glibc
#endif

extension TrainedModel {
    /// Fails with TM_ERR_RESOURCE if malloc cannot provide `bytes` now. Large blocks are
    /// mapped, not touched, so the probe costs a system call, not the memory.
    static func probeMemory(_ bytes: Int, what: String) throws {
        guard let p = malloc(max(bytes, 1)) else {
            throw TextModelError.resource("out of memory: \(what) needs about \((bytes + 1_048_575) / 1_048_576) MB that the system could not provide")
        }
        free(p)
    }
}
