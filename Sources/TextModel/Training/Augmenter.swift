/// Optional training-time text augmentation on feature ids: each id is dropped with
/// probability `tokenDropout` (a text keeps at least one), then each adjacent pair is
/// swapped with probability `swap`. Off by default; never applied at prediction time.
struct Augmenter {
    let tokenDropout: Float
    let swap: Float

    var isActive: Bool { tokenDropout > 0 || swap > 0 }

    func apply(_ ids: [Int32], rng: inout SeededGenerator) -> ArraySlice<Int32> { apply(ids[...], rng: &rng) }

    func apply(_ ids: ArraySlice<Int32>, rng: inout SeededGenerator) -> ArraySlice<Int32> {
        var out = [Int32]()
        apply(ids, into: &out, rng: &rng)
        return out[...]
    }

    /// `apply`, written into `out` (replacing what it held): an array that already has
    /// room for `ids` takes the result without allocating.
    func apply(_ ids: ArraySlice<Int32>, into out: inout [Int32], rng: inout SeededGenerator) {
        out.removeAll(keepingCapacity: true)
        out.reserveCapacity(ids.count)
        for id in ids where tokenDropout == 0 || rng.uniform(0, 1) >= tokenDropout { out.append(id) }
        if out.isEmpty, let first = ids.first { out.append(first) }
        if swap > 0 && out.count > 1 {
            var i = 0
            while i + 1 < out.count {
                if rng.uniform(0, 1) < swap {
                    out.swapAt(i, i + 1)
                    i += 2
                } else {
                    i += 1
                }
            }
        }
    }
}

/// Every training example as this epoch sees it: the stored one, or its augmented copy.
/// Without augmentation it is a view of the stored set and holds no per-example copy.
/// With it, each example has its own array from the start, as large as the stored
/// example, which every later augmentation of it reuses: training steps allocate nothing.
struct EpochExamples {
    let stored: EncodedTexts
    private var augmented: [[Int32]] = []

    init(_ stored: EncodedTexts, augmenting: Bool = false) {
        self.stored = stored
        if augmenting { augmented = (0..<stored.count).map { Array(stored[$0]) } }
    }

    subscript(e: Int) -> ArraySlice<Int32> { augmented.isEmpty ? stored[e] : augmented[e][...] }

    /// Replaces example e by a fresh augmentation of its stored form.
    mutating func augment(_ e: Int, with augmenter: Augmenter, rng: inout SeededGenerator) {
        if augmented.isEmpty { augmented = (0..<stored.count).map { Array(stored[$0]) } }
        augmenter.apply(stored[e], into: &augmented[e], rng: &rng)
    }
}
