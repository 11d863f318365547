#if canImport(Glibc)
import Glibc
#endif

/// A growable block of zero-initialised numbers owned by one object and freed with it.
/// Hot loops work on `pointer` directly (no bounds checks, no copy-on-write); `reserve`
/// only reallocates when a larger batch than ever before arrives, so steady-state steps
/// never allocate. Memory comes from calloc so that large buffers (weights, optimizer
/// state) can report failure through `allocate` instead of stopping the process.
final class Buffer<Element: Numeric> {
    private(set) var pointer: UnsafeMutablePointer<Element>
    private(set) var capacity: Int

    /// For buffers whose size a memory check already covered (Trainer.checkMemory,
    /// TrainedModel.inferenceWorkers) or that start empty; stops the process if even
    /// that memory is not there. Sizes that come from the caller use `allocate`.
    convenience init(count: Int) {
        guard let raw = Buffer.zeroed(max(count, 1)) else {
            fatalError("libtextmodel: out of memory allocating \(count) elements")
        }
        self.init(raw, capacity: max(count, 1))
    }

    private init(_ pointer: UnsafeMutablePointer<Element>, capacity: Int) {
        self.pointer = pointer
        self.capacity = capacity
    }

    /// A buffer of `count` zeros, or a TextModelError.resource naming `what`.
    static func allocate(count: Int, what: String) throws -> Buffer {
        guard let raw = zeroed(max(count, 1)) else {
            throw TextModelError.resource("out of memory: \(what) needs \(count * MemoryLayout<Element>.stride / 1_048_576) MB that the system could not provide")
        }
        return Buffer(raw, capacity: max(count, 1))
    }

    private static func zeroed(_ count: Int) -> UnsafeMutablePointer<Element>? {
        calloc(count, MemoryLayout<Element>.stride)?.bindMemory(to: Element.self, capacity: count)
    }

    deinit { free(pointer) }

    /// Makes room for `count` elements. Contents are not preserved when it grows. Called
    /// inside forward/backward passes, which cannot throw: every caller first checks
    /// the workspace size against training.max_memory_mb and probes malloc for it
    /// (Trainer.checkMemory, TrainedModel.inferenceWorkers), so only memory taken by
    /// someone else between the probe and this call can still stop the process here.
    @discardableResult
    func reserve(_ count: Int) -> UnsafeMutablePointer<Element> {
        if count > capacity {
            guard let raw = Buffer.zeroed(count) else {
                fatalError("libtextmodel: out of memory allocating \(count) elements")
            }
            free(pointer)
            pointer = raw
            capacity = count
        }
        return pointer
    }

    func zero(_ count: Int) { pointer.update(repeating: 0, count: min(count, capacity)) }
}

typealias FloatBuffer = Buffer<Float>
typealias IndexBuffer = Buffer<Int32>
