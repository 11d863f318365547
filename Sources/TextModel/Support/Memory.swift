#if canImport(Glibc)
import Glibc

/// glibc's `int malloc_trim(size_t pad)` (malloc.h, which the Glibc module leaves out).
@_silgen_name("malloc_trim")
private func glibcMallocTrim(_ pad: Int) -> Int32
#endif

enum Memory {
    /// Hands the free pages inside malloc's heap back to the system. Small blocks that
    /// were freed (a corpus's texts) otherwise stay in the process's RSS, since glibc
    /// returns heap memory only from its top. Takes milliseconds on a large heap.
    static func returnFreePages() {
        #if canImport(Glibc)
        _ = glibcMallocTrim(0)
        #endif
    }
}
