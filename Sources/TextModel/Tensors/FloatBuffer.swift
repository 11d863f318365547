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
    static func allocate(count: Int, what: @autoclosure () -> String) throws -> Buffer {
        guard let raw = zeroed(max(count, 1)) else {
            throw TextModelError.resource("out of memory: \(what()) needs \(count / 1_048_576 * MemoryLayout<Element>.stride) MB that the system could not provide")
        }
        return Buffer(raw, capacity: max(count, 1))
    }

    private static func zeroed(_ count: Int) -> UnsafeMutablePointer<Element>? {
        calloc(count, MemoryLayout<Element>.stride)?.bindMemory(to: Element.self, capacity: count)
    }

    deinit { free(pointer) }

}

typealias FloatBuffer = Buffer<Float>
typealias IndexBuffer = Buffer<Int32>
