#if canImport(Glibc)
import Glibc
#endif

/// A fixed block of zero-initialised numbers owned by one object and freed with it.
/// Hot loops work on `pointer` directly (no bounds checks, no copy-on-write). Memory
/// comes from calloc, so that every allocation (weights, optimizer state, a
/// Workspace's activations) reports failure through `allocate` instead of stopping the
/// process.
final class Buffer<Element: Numeric> {
    let pointer: UnsafeMutablePointer<Element>
    let capacity: Int

    private init(_ pointer: UnsafeMutablePointer<Element>, capacity: Int) {
        self.pointer = pointer
        self.capacity = capacity
    }

    /// A buffer of `count` zeros, or a TextModelError.resource naming `what` (built only
    /// on failure: an interpolated name would otherwise allocate on every call).
    /// `hugePages`: for tables read at random rows (a model's weights), ask the kernel
    /// to back the buffer with 2 MB pages (see adviseHugePages).
    static func allocate(count: Int, what: @autoclosure () -> String, hugePages: Bool = false) throws -> Buffer {
        guard let raw = zeroed(max(count, 1)) else {
            throw TextModelError.resource("out of memory: \(what()) needs \(count / 1_048_576 * MemoryLayout<Element>.stride) MB that the system could not provide")
        }
        if hugePages { adviseHugePages(UnsafeMutableRawPointer(raw), bytes: max(count, 1) * MemoryLayout<Element>.stride) }
        return Buffer(raw, capacity: max(count, 1))
    }

    /// madvise(MADV_HUGEPAGE) over the whole 2 MB pages inside the block (a hint; errors
    /// are ignored). Why: a bag model's embedding table is ~100 MB read a few rows per
    /// text at random, and with 4 KB pages nearly every row also missed the TLB (its
    /// page walk before its cache miss); 2 MB pages make the table ~50 TLB entries.
    /// calloc's large blocks are fresh mmap pages, untouched until written, so the
    /// advice applies when the weights are first written.
    private static func adviseHugePages(_ start: UnsafeMutableRawPointer, bytes: Int) {
        #if os(Linux)
        let huge = 2 << 20
        guard bytes >= 4 * huge else { return }
        let first = (Int(bitPattern: start) + huge - 1) & ~(huge - 1)
        let end = (Int(bitPattern: start) + bytes) & ~(huge - 1)
        guard end > first, let p = UnsafeMutableRawPointer(bitPattern: first) else { return }
        _ = madvise(p, end - first, Int32(MADV_HUGEPAGE))
        #endif
    }

    private static func zeroed(_ count: Int) -> UnsafeMutablePointer<Element>? {
        calloc(count, MemoryLayout<Element>.stride)?.bindMemory(to: Element.self, capacity: count)
    }

    deinit { free(pointer) }

}

typealias FloatBuffer = Buffer<Float>
typealias IndexBuffer = Buffer<Int32>
