/// Many encoded texts in one flat buffer: text i's feature ids are
/// `ids[offsets[i] ..< offsets[i + 1]]`.
///
/// Why not `[[Int32]]`: a million short texts as a million arrays cost a heap block,
/// a 32-byte header and allocator slack each, about three times their ids, and were
/// most of the bag trainer's peak memory. Here a corpus is two allocations.
struct EncodedTexts: Equatable {
    private(set) var ids: [Int32] = []
    private(set) var offsets: [Int] = [0]

    init() {}

    /// The same texts, copied out of one array per text (tests and small inputs).
    init(_ texts: [[Int32]]) {
        reserve(texts: texts.count, ids: texts.reduce(0) { $0 + $1.count })
        for t in texts { append(t) }
    }

    /// Texts of the given lengths, their ids written by `fill` straight into the one
    /// buffer (allocated once, at its final size). `fill` gets the buffer and the
    /// offsets and must write every id.
    init(lengths: [Int], fill: (UnsafeMutableBufferPointer<Int32>, UnsafeBufferPointer<Int>) -> Void) {
        var offsets = [Int](repeating: 0, count: lengths.count + 1)
        for (i, n) in lengths.enumerated() { offsets[i + 1] = offsets[i] + n }
        self.offsets = offsets
        ids = [Int32](unsafeUninitializedCapacity: offsets[lengths.count]) { buffer, initialized in
            offsets.withUnsafeBufferPointer { fill(buffer, $0) }
            initialized = buffer.count
        }
    }

    var count: Int { offsets.count - 1 }
    var isEmpty: Bool { count == 0 }
    /// Ids of all texts together.
    var totalLength: Int { ids.count }

    func length(_ i: Int) -> Int { offsets[i + 1] - offsets[i] }

    /// Length of the longest text, 0 if there is none.
    var longest: Int {
        var best = 0
        for i in 0..<count { best = max(best, length(i)) }
        return best
    }

    /// Text i's ids: a view into the shared buffer, not a copy.
    subscript(i: Int) -> ArraySlice<Int32> { ids[offsets[i]..<offsets[i + 1]] }

    /// Calls `body` with the flat ids and the offsets, for loops that must not touch
    /// the arrays' reference counts (threads sharing them would contend on the count).
    func withUnsafeStorage<R>(_ body: (UnsafeBufferPointer<Int32>, UnsafeBufferPointer<Int>) throws -> R) rethrows -> R {
        try ids.withUnsafeBufferPointer { ids in try offsets.withUnsafeBufferPointer { offsets in try body(ids, offsets) } }
    }

    /// Calls `body` with the flat ids to rewrite in place (BucketSizing folds hashed ids).
    mutating func withMutableIDs<R>(_ body: (UnsafeMutableBufferPointer<Int32>) throws -> R) rethrows -> R {
        try ids.withUnsafeMutableBufferPointer { try body($0) }
    }

    /// No texts, keeping the buffers' capacity for the next batch.
    mutating func removeAll() {
        ids.removeAll(keepingCapacity: true)
        offsets.removeAll(keepingCapacity: true)
        offsets.append(0)
    }

    mutating func reserve(texts: Int, ids count: Int) {
        offsets.reserveCapacity(texts + 1)
        ids.reserveCapacity(count)
    }

    mutating func append<S: Sequence>(_ text: S) where S.Element == Int32 {
        ids.append(contentsOf: text)
        offsets.append(ids.count)
    }

    mutating func append(contentsOf other: EncodedTexts) {
        let base = ids.count
        ids.append(contentsOf: other.ids)
        offsets.append(contentsOf: other.offsets.dropFirst().lazy.map { $0 + base })
    }
}
