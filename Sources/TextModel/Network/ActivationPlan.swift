import Synchronization

/// Upper bounds of a batch's shape: packed rows N (tokens), texts B, longest text L.
/// Every activation buffer's size is a function of these three.
struct BatchShape: Equatable {
    var rows: Int
    var texts: Int
    var longest: Int

    static let empty = BatchShape(rows: 0, texts: 0, longest: 0)

    /// The shape of a packed batch.
    init(_ batch: PackedBatch) {
        rows = batch.totalRows
        texts = batch.size
        longest = batch.lengths.first ?? 0
    }

    init(rows: Int, texts: Int, longest: Int) {
        self.rows = rows
        self.texts = texts
        self.longest = longest
    }

    /// The largest batch of at most `texts` texts of at most `longest` tokens each.
    static func bound(texts: Int, longest: Int) -> BatchShape {
        let (rows, overflow) = texts.multipliedReportingOverflow(by: longest)
        return BatchShape(rows: overflow ? Int.max : rows, texts: texts, longest: longest)
    }

    func fits(in other: BatchShape) -> Bool {
        rows <= other.rows && texts <= other.texts && longest <= other.longest
    }

    /// The smallest shape both fit in.
    func union(_ other: BatchShape) -> BatchShape {
        BatchShape(rows: max(rows, other.rows), texts: max(texts, other.texts), longest: max(longest, other.longest))
    }
}

/// Every activation and scratch buffer a network's passes use, declared once by the
/// layers that use them (each gets a typed handle), sized from a BatchShape. A
/// Workspace allocates all of them for a shape before any pass runs, and the memory
/// checks of training and prediction read `bytes(for:)` of this same plan, so the
/// estimate and the allocation cannot disagree.
struct ActivationPlan {
    /// Handle of a Float buffer of the plan.
    struct Floats { fileprivate let index: Int }
    /// Handle of an Int32 buffer of the plan (row indices: max-pooling argmax).
    struct Indices { fileprivate let index: Int }

    struct Entry {
        let name: String
        let count: (BatchShape) -> Int
    }

    private(set) var floatEntries: [Entry] = []
    private(set) var indexEntries: [Entry] = []

    /// Declares a Float buffer of `count(shape)` elements; `name` says what it holds.
    mutating func floats(_ name: String, _ count: @escaping (BatchShape) -> Int) -> Floats {
        floatEntries.append(Entry(name: name, count: count))
        return Floats(index: floatEntries.count - 1)
    }

    mutating func indices(_ name: String, _ count: @escaping (BatchShape) -> Int) -> Indices {
        indexEntries.append(Entry(name: name, count: count))
        return Indices(index: indexEntries.count - 1)
    }

    /// Shapes beyond these are refused (bytes(for:) says Int.max) before any size is
    /// computed, so the size closures' products (a shape count times widths of at most
    /// a few thousand) cannot overflow. Sizes that multiply two shape counts use
    /// `product`, which saturates.
    static let largestRows = 1 << 40, largestTexts = 1 << 40, largestLength = 1 << 20

    /// a · b · …, or Int.max when that overflows.
    static func product(_ factors: Int...) -> Int {
        var total = 1
        for f in factors {
            let (p, overflow) = total.multipliedReportingOverflow(by: max(f, 0))
            if overflow { return Int.max }
            total = p
        }
        return total
    }

    /// Bytes of every buffer at `shape` (Int.max when that overflows).
    func bytes(for shape: BatchShape) -> Int {
        guard shape.rows <= ActivationPlan.largestRows, shape.texts <= ActivationPlan.largestTexts,
              shape.longest <= ActivationPlan.largestLength else { return Int.max }
        var total = 0
        for entry in floatEntries + indexEntries {
            let (bytes, o1) = max(entry.count(shape), 0).multipliedReportingOverflow(by: 4)
            let (sum, o2) = total.addingReportingOverflow(bytes)
            if o1 || o2 { return Int.max }
            total = sum
        }
        return total
    }

    fileprivate func floatCount(_ index: Int, _ shape: BatchShape) -> Int { floatEntries[index].count(shape) }
    fileprivate func indexCount(_ index: Int, _ shape: BatchShape) -> Int { indexEntries[index].count(shape) }
}

/// One thread's buffers for a network's passes: every buffer of the network's
/// ActivationPlan, allocated together by `prepare(for:)` (the only call that
/// allocates), then reused by every pass of that shape or smaller. A workspace is used
/// by one thread at a time.
final class Workspace {
    let plan: ActivationPlan
    /// The shape the buffers are allocated for.
    private(set) var shape = BatchShape.empty
    private var floatBuffers: [FloatBuffer] = []
    private var indexBuffers: [IndexBuffer] = []
    let batch = PackedBatch()

    /// True while training: dropout is applied only then.
    var training = false
    /// Source of dropout masks; the trainer reseeds it for every step and worker so a
    /// seed and thread count fix the masks.
    var rng = SeededGenerator(seed: 0)

    init(plan: ActivationPlan) { self.plan = plan }

    /// Makes every buffer large enough for `needed` (and for the shape it already had).
    /// Allocates only when `needed` does not fit; a failure is TM_ERR_RESOURCE and leaves
    /// the workspace as it was.
    func prepare(for needed: BatchShape) throws {
        guard !needed.fits(in: shape) || floatBuffers.count != plan.floatEntries.count else { return }
        let target = shape.union(needed)
        let bytes = plan.bytes(for: target)
        guard bytes != Int.max else {
            throw TextModelError.resource("a batch of \(target.texts) texts and \(target.rows) tokens needs more activation memory than can be addressed")
        }
        var floats = [FloatBuffer](), indices = [IndexBuffer]()
        floats.reserveCapacity(plan.floatEntries.count)
        for i in plan.floatEntries.indices {
            floats.append(try FloatBuffer.allocate(count: plan.floatCount(i, target), what: "activations (\(plan.floatEntries[i].name))"))
        }
        for i in plan.indexEntries.indices {
            indices.append(try IndexBuffer.allocate(count: plan.indexCount(i, target), what: "activations (\(plan.indexEntries[i].name))"))
        }
        floatBuffers = floats
        indexBuffers = indices
        shape = target
        Workspace.countAllocation()
    }

    /// `prepare(for:)` the shape of the batch this workspace holds.
    func prepareForBatch() throws { try prepare(for: BatchShape(batch)) }

    subscript(_ handle: ActivationPlan.Floats) -> UnsafeMutablePointer<Float> { floatBuffers[handle.index].pointer }
    subscript(_ handle: ActivationPlan.Indices) -> UnsafeMutablePointer<Int32> { indexBuffers[handle.index].pointer }

    /// Times any workspace has allocated its buffers, so tests can show that steps and
    /// repeated prediction calls allocate none.
    static var allocationCount: Int { allocations.load(ordering: .relaxed) }
    private static let allocations = Atomic<Int>(0)
    private static func countAllocation() { allocations.add(1, ordering: .relaxed) }
}
