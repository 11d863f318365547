/// Sums the workers' gradient buffers into worker 0's, in worker order, and clears the
/// others for the next step. A step touches only the embedding rows of its tokens, so
/// for the (large) embedding table only those rows are added and cleared; the rest of
/// the buffer is summed in full.
struct GradientReducer {
    private let rowWidth: Int
    private let embeddingRange: Range<Int>
    private let total: Int
    private let rows: Int
    // Per embedding row: the last (step, worker) stamp that merged it. Made here, with
    // the step, so that no step allocates (only data-parallel steps make a reducer).
    private var lastSeen: [Int]
    private var stamp = 0

    init(network: Network) {
        let e = network.embeddingTensor
        rowWidth = e.shape[1]
        rows = e.shape[0]
        embeddingRange = e.offset..<(e.offset + e.count)
        total = network.layout.count
        lastSeen = [Int](repeating: -1, count: rows)
    }

    mutating func sum(_ grads: [FloatBuffer], workspaces: [Workspace], workers: Int) {
        guard workers > 1 else { return }
        let into = grads[0].pointer
        for w in 1..<workers {
            stamp += 1
            let from = grads[w].pointer
            for id in workspaces[w].batch.tokens {
                let row = Int(id)
                if lastSeen[row] == stamp { continue }
                lastSeen[row] = stamp
                let base = embeddingRange.lowerBound + row * rowWidth
                for j in base..<(base + rowWidth) {
                    into[j] += from[j]
                    from[j] = 0
                }
            }
            // Two ranges, not a loop over an array of them: that array would be allocated.
            for j in 0..<embeddingRange.lowerBound { into[j] += from[j]; from[j] = 0 }
            for j in embeddingRange.upperBound..<total { into[j] += from[j]; from[j] = 0 }
        }
    }

    /// Calls `body` with every part of the buffer a step may have changed: each embedding
    /// row some worker's batch used (once), and everything outside the embedding table.
    mutating func forEachTouchedRange(workspaces: [Workspace], workers: Int, _ body: (Range<Int>) -> Void) {
        forEachTouchedRow(workspaces: workspaces, workers: workers, body)
        body(0..<embeddingRange.lowerBound)
        body(embeddingRange.upperBound..<total)
    }

    /// Calls `body` with the range of each embedding row some worker's batch used, once.
    mutating func forEachTouchedRow(workspaces: [Workspace], workers: Int, _ body: (Range<Int>) -> Void) {
        stamp += 1
        for w in 0..<workers {
            for id in workspaces[w].batch.tokens {
                let row = Int(id)
                if lastSeen[row] == stamp { continue }
                lastSeen[row] = stamp
                let base = embeddingRange.lowerBound + row * rowWidth
                body(base..<(base + rowWidth))
            }
        }
    }
}
