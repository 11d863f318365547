/// A training set's examples: their feature ids, flat (EncodedTexts), or, for the bag
/// model trained with Hogwild, their words (CompactTexts), whose feature ids each
/// thread makes again per example as it trains on it. Both give the same ids.
/// Indirect (each payload boxed, the enum one reference): the two payloads differ in
/// size, and copying an inline multi-payload enum reads the smaller one's unset spare
/// bytes, which valgrind reports as a jump on uninitialised memory at every copy.
indirect enum TrainingExamples {
    case flat(EncodedTexts)
    case compact(CompactTexts)

    var count: Int {
        switch self {
        case .flat(let texts): return texts.count
        case .compact(let texts): return texts.count
        }
    }

    var isEmpty: Bool { count == 0 }

    /// The error of a read of spilled examples that failed (CompactTexts.readFailure).
    var readFailure: String? {
        if case .compact(let texts) = self { return texts.readFailure }
        return nil
    }

    /// Feature ids of all examples.
    var totalLength: Int {
        switch self {
        case .flat(let texts): return texts.totalLength
        case .compact(let texts): return texts.featureCount
        }
    }

    /// Feature ids of the longest example, 0 if there is none.
    var longest: Int {
        switch self {
        case .flat(let texts): return texts.longest
        case .compact(let texts): return texts.longest
        }
    }

    /// The feature ids, flat. Compact examples are expanded into a new buffer of their
    /// full size: for a step that packs batches of them (the data-parallel and DP-SGD
    /// steps), which the bag model with Hogwild never runs.
    func features() -> EncodedTexts {
        switch self {
        case .flat(let texts): return texts
        case .compact(let texts): return texts.expandedAll()
        }
    }

    /// Scratch for one thread's `Reader.ids` calls.
    func makeScratch() -> ExpansionScratch {
        switch self {
        case .flat: return ExpansionScratch(ids: 0, tokens: 0)
        case .compact(let texts): return texts.makeScratch()
        }
    }

    /// Calls `body` with a reader of the examples' ids, valid only inside it.
    func withReader<R>(_ body: (Reader) -> R) -> R {
        switch self {
        case .flat(let texts):
            return texts.withUnsafeStorage { ids, offsets in body(Reader(flatIDs: ids, flatOffsets: offsets, compact: nil)) }
        case .compact(let texts):
            return texts.withReader { body(Reader(flatIDs: UnsafeBufferPointer(start: nil, count: 0),
                                                  flatOffsets: UnsafeBufferPointer(start: nil, count: 0), compact: $0)) }
        }
    }

    /// Example ids by index; plain pointers, so threads share it without reference counting.
    struct Reader {
        fileprivate let flatIDs: UnsafeBufferPointer<Int32>
        fileprivate let flatOffsets: UnsafeBufferPointer<Int>
        fileprivate let compact: CompactTexts.Reader?

        /// Example e's feature ids: a view of the flat buffer, or expanded into
        /// `scratch` (valid until its next use).
        func ids(_ e: Int, scratch: ExpansionScratch) -> UnsafeBufferPointer<Int32> {
            if let compact { return compact.expand(e, into: scratch) }
            return UnsafeBufferPointer(rebasing: flatIDs[flatOffsets[e]..<flatOffsets[e + 1]])
        }
    }

    /// CRC-32 of the ids' count and the ids, then of the offsets' count and the offsets
    /// (each as Int32), continuing from `crc`: what a flat set's fingerprint adds.
    func checksum(seed crc: UInt32) -> UInt32 {
        var crc = crc
        func add(count: Int) {
            var n = Int32(truncatingIfNeeded: count)
            crc = withUnsafeBytes(of: &n) { CRC32.checksum($0, seed: crc) }
        }
        let n = count
        var offsets = [Int32](repeating: 0, count: n + 1)
        add(count: totalLength)
        let scratch = makeScratch()
        var end = 0
        withReader { reader in
            for e in 0..<n {
                let ids = reader.ids(e, scratch: scratch)
                crc = CRC32.checksum(UnsafeRawBufferPointer(ids), seed: crc)
                end += ids.count
                offsets[e + 1] = Int32(truncatingIfNeeded: end)
            }
        }
        add(count: n + 1)
        crc = offsets.withUnsafeBytes { CRC32.checksum($0, seed: crc) }
        return crc
    }
}
