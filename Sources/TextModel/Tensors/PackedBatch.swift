/// A batch of token sequences packed time-major with no padding.
///
/// Sequences are ordered longest first, so at step t the sequences still running are a
/// prefix 0..<rows(t) of the batch. Row (t, b) of every packed matrix sits at
/// `offset(t) + b`; step t's rows are contiguous, and so are the previous states of
/// step t's sequences (a prefix of step t-1's rows). Work is proportional to real tokens
/// and padding cannot change any result: a text computes the same alone or in a batch.
///
/// The arrays' exclusivity is unchecked: a batch belongs to one workspace, used by one
/// call at a time, and the dynamic checks (ten per packed text, each through a
/// thread-local access set) were a visible share of a one-text prediction.
final class PackedBatch {
    /// Length of each sequence, longest first.
    @exclusivity(unchecked) private(set) var lengths: [Int] = []
    /// Rows running at each step, and where each step's rows start.
    @exclusivity(unchecked) private(set) var stepRows: [Int] = []
    @exclusivity(unchecked) private(set) var stepOffsets: [Int] = []
    /// Token id of every packed row.
    @exclusivity(unchecked) private(set) var tokens: [Int32] = []
    /// Packed row holding each sequence's last token, or -1 for an empty sequence.
    @exclusivity(unchecked) private(set) var lastRows: [Int] = []
    /// Whether the arrays hold a one-text packing (pack(one:)'s), which the next one
    /// updates in place.
    @exclusivity(unchecked) private var holdsOneText = false

    var size: Int { lengths.count }
    var steps: Int { stepRows.count }
    var totalRows: Int { tokens.count }

    /// Makes room for a batch of `shape` (Workspace.prepare calls this with the plan's
    /// shape), so that packing one allocates nothing.
    func reserve(_ shape: BatchShape) {
        lengths.reserveCapacity(shape.texts)
        lastRows.reserveCapacity(shape.texts)
        stepRows.reserveCapacity(shape.longest)
        stepOffsets.reserveCapacity(shape.longest)
        tokens.reserveCapacity(shape.rows)
    }

    /// Packs `sequences`, which must already be sorted by length, longest first.
    func pack<C: RandomAccessCollection>(_ sequences: C) where C.Element == ArraySlice<Int32> {
        let start = sequences.startIndex
        pack(count: sequences.count) { sequences[sequences.index(start, offsetBy: $0)] }
    }

    /// Packs the `count` sequences `sequence(0..<count)`, which must already be sorted by
    /// length, longest first. A closure, not a lazy map: a lazy map stores its closure,
    /// whose captures then go to the heap on every call (training steps and prediction
    /// calls allocate nothing).
    func pack(count: Int, _ sequence: (Int) -> ArraySlice<Int32>) {
        if count == 1 { return pack(one: sequence(0)) }
        layOut(count: count) { sequence($0).count }
        tokens.withUnsafeMutableBufferPointer { out in
            stepOffsets.withUnsafeBufferPointer { offsets in
                for b in 0..<count {
                    sequence(b).withUnsafeBufferPointer { s in
                        for t in 0..<s.count { out[offsets[t] + b] = s[t] }
                    }
                }
            }
        }
    }

    /// `pack(count:_:)` of sequences in one flat buffer: sequence b is `ids[bounds(b)]`.
    /// No array per sequence: threads packing from one shared buffer do not touch its
    /// reference count (on one cache line for all of them).
    func pack(count: Int, ids: UnsafeBufferPointer<Int32>, bounds: (Int) -> Range<Int>) {
        if count == 1 { return pack(one: UnsafeBufferPointer(rebasing: ids[bounds(0)])) }
        layOut(count: count) { bounds($0).count }
        tokens.withUnsafeMutableBufferPointer { out in
            stepOffsets.withUnsafeBufferPointer { offsets in
                for b in 0..<count {
                    let r = bounds(b)
                    for t in 0..<r.count { out[offsets[t] + b] = ids[r.lowerBound + t] }
                }
            }
        }
    }

    /// Everything of a packing but the tokens' values: lengths, steps, last rows, and
    /// `tokens` at its final size for the caller to fill (row (t, b) at
    /// stepOffsets[t] + b). Each sequence is read once, not once per token.
    private func layOut(count: Int, length: (Int) -> Int) {
        holdsOneText = false
        lengths.removeAll(keepingCapacity: true)
        stepRows.removeAll(keepingCapacity: true)
        stepOffsets.removeAll(keepingCapacity: true)
        tokens.removeAll(keepingCapacity: true)
        lastRows.removeAll(keepingCapacity: true)
        var sorted = true
        for b in 0..<count {
            let n = length(b)
            if b > 0 && n > lengths[b - 1] { sorted = false }
            lengths.append(n)
        }
        // Every caller sorts longest first (the scatter loops above write through unchecked
        // pointers at offsets this layout gives); an unsorted batch is a bug in the library,
        // stopped here rather than written out of bounds.
        precondition(sorted, "PackedBatch: sequences must be sorted by length, longest first")
        let maxLength = lengths.first ?? 0
        var running = lengths.count, rows = 0
        for t in 0..<maxLength {
            while running > 0 && lengths[running - 1] <= t { running -= 1 }
            stepOffsets.append(rows)
            stepRows.append(running)
            rows += running
        }
        tokens.append(contentsOf: repeatElement(0, count: rows))
        for (b, length) in lengths.enumerated() {
            lastRows.append(length == 0 ? -1 : stepOffsets[length - 1] + b)
        }
    }

    /// `pack` of one sequence, in a few bulk writes: every step runs one row, so step t
    /// starts at row t. The per-token appends of the general loop were a quarter of a
    /// one-text bag prediction's instructions.
    /// After a one-text packing only the length, the last row and the steps past the
    /// shorter of the two texts change (single-text prediction packs one text per call).
    private func pack<S: Collection>(one s: S) where S.Element == Int32 {
        let n = s.count
        if !holdsOneText {
            lengths.removeAll(keepingCapacity: true)
            lengths.append(0)
            stepRows.removeAll(keepingCapacity: true)
            stepOffsets.removeAll(keepingCapacity: true)
            lastRows.removeAll(keepingCapacity: true)
            lastRows.append(0)
            holdsOneText = true
        }
        let old = stepRows.count
        if n > old {
            stepRows.append(contentsOf: repeatElement(1, count: n - old))
            stepOffsets.append(contentsOf: old..<n)
        } else if n < old {
            stepRows.removeLast(old - n)
            stepOffsets.removeLast(old - n)
        }
        lengths[0] = n
        lastRows[0] = n == 0 ? -1 : n - 1
        tokens.removeAll(keepingCapacity: true)
        tokens.append(contentsOf: s)
    }

    /// Writes into `out` [N × width] each row's previous-step state: row (t, b) gets row
    /// (t−1, b) of `states`, and rows at t = 0 get zeros. Recurrent layers multiply their
    /// gate gradients by this to get the recurrent weights' gradient in one product.
    func shiftToPreviousStep(_ states: UnsafePointer<Float>, width: Int, into out: UnsafeMutablePointer<Float>) {
        guard steps > 0 else { return }
        out.update(repeating: 0, count: stepRows[0] * width)
        for t in 1..<steps {
            (out + stepOffsets[t] * width).update(from: states + stepOffsets[t - 1] * width, count: stepRows[t] * width)
        }
    }
}
