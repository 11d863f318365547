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
    /// Handle of a Float buffer of the plan (its index among the plan's Float buffers).
    struct Floats { let index: Int }
    /// Handle of an Int32 buffer of the plan (row indices: max-pooling argmax).
    struct Indices { let index: Int }

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
        // Both lists in turn, not `floatEntries + indexEntries`: that would allocate
        // a joined array on every call (prediction calls check the plan each time).
        var total = 0
        for entry in floatEntries where !add(entry, shape, to: &total) { return Int.max }
        for entry in indexEntries where !add(entry, shape, to: &total) { return Int.max }
        return total
    }

    /// total += entry's bytes at `shape`; false on overflow.
    private func add(_ entry: Entry, _ shape: BatchShape, to total: inout Int) -> Bool {
        let (bytes, o1) = max(entry.count(shape), 0).multipliedReportingOverflow(by: 4)
        let (sum, o2) = total.addingReportingOverflow(bytes)
        total = sum
        return !(o1 || o2)
    }

    func floatCount(_ index: Int, _ shape: BatchShape) -> Int { floatEntries[index].count(shape) }
    func indexCount(_ index: Int, _ shape: BatchShape) -> Int { indexEntries[index].count(shape) }
}
