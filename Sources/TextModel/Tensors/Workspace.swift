import Synchronization

/// One thread's buffers for a network's passes: every buffer of the network's
/// ActivationPlan, allocated together by `prepare(for:)` (the only call that
/// allocates), then reused by every pass of that shape or smaller. A workspace is used
/// by one thread at a time.
final class Workspace {
    let plan: ActivationPlan
    /// The shape the buffers are allocated for.
    /// Unchecked exclusivity: a workspace is used by one thread at a time, and every
    /// pass reads these (a dynamic check per buffer handle otherwise).
    @exclusivity(unchecked) private(set) var shape = BatchShape.empty
    @exclusivity(unchecked) private var floatBuffers: [FloatBuffer] = []
    @exclusivity(unchecked) private var indexBuffers: [IndexBuffer] = []
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
        batch.reserve(target)
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
