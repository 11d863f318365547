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
        return out[...]
    }
}

/// Every training example as this epoch sees it: the stored one, or the augmented copy
/// the trainer put in its place. Without augmentation it is a view of the stored set and
/// holds no per-example copy.
struct EpochExamples {
    let stored: EncodedTexts
    private var replaced: [ArraySlice<Int32>] = []

    init(_ stored: EncodedTexts) { self.stored = stored }

    subscript(e: Int) -> ArraySlice<Int32> {
        get { replaced.isEmpty ? stored[e] : replaced[e] }
        set {
            if replaced.isEmpty { replaced = (0..<stored.count).map { stored[$0] } }
            replaced[e] = newValue
        }
    }
}
