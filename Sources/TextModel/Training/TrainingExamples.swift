/// A training set's examples: their feature ids, flat (EncodedTexts), or, for the bag
/// model trained with Hogwild, their words (CompactTexts), whose feature ids each
/// thread makes again per example as it trains on it, or flat ids kept in a temporary
/// file (SpilledTexts: a big file's sequence-model examples, which the data-parallel
/// step reads a batch at a time). All give the same ids.
/// Indirect (each payload boxed, the enum one reference): the two payloads differ in
/// size, and copying an inline multi-payload enum reads the smaller one's unset spare
/// bytes, which valgrind reports as a jump on uninitialised memory at every copy.
indirect enum TrainingExamples {
    case flat(EncodedTexts)
    case compact(CompactTexts)
    case spilled(SpilledTexts)

    var count: Int {
        switch self {
        case .flat(let texts): return texts.count
        case .compact(let texts): return texts.count
        case .spilled(let texts): return texts.count
        }
    }

    var isEmpty: Bool { count == 0 }

    /// The error of a read of spilled examples that failed (CompactTexts.readFailure).
    var readFailure: String? {
        switch self {
        case .flat: return nil
        case .compact(let texts): return texts.readFailure
        case .spilled(let texts): return texts.failure
        }
    }

    /// Feature ids of all examples.
    var totalLength: Int {
        switch self {
        case .flat(let texts): return texts.totalLength
        case .compact(let texts): return texts.featureCount
        case .spilled(let texts): return texts.idCount
        }
    }

    /// Feature ids of the longest example, 0 if there is none.
    var longest: Int {
        switch self {
        case .flat(let texts): return texts.longest
        case .compact(let texts): return texts.longest
        case .spilled(let texts): return texts.longest
        }
    }

    /// The feature ids, flat. Compact examples are expanded into a new buffer of their
    /// full size: for a step that packs batches of them (the data-parallel and DP-SGD
    /// steps), which the bag model with Hogwild never runs; so are spilled ones (for the
    /// DP-SGD step; the data-parallel step reads those a batch at a time instead).
    func features() throws -> EncodedTexts {
        switch self {
        case .flat(let texts): return texts
        case .compact(let texts): return texts.expandedAll()
        case .spilled(let texts): return try texts.readAll()
        }
    }

    /// Scratch for one thread's `Reader.ids` calls.
    func makeScratch() -> ExpansionScratch {
        switch self {
        case .flat: return ExpansionScratch(ids: 0, tokens: 0)
        case .compact(let texts): return texts.makeScratch()
        case .spilled(let texts): return ExpansionScratch(ids: texts.longest, tokens: 0)
        }
    }

    /// Calls `body` with a reader of the examples' ids, valid only inside it.
    func withReader<R>(_ body: (Reader) -> R) -> R {
        switch self {
        case .flat(let texts):
            return texts.withUnsafeStorage { ids, offsets in body(Reader(flatIDs: ids, flatOffsets: offsets, compact: nil, spilled: nil)) }
        case .compact(let texts):
            return texts.withReader { body(Reader(flatIDs: UnsafeBufferPointer(start: nil, count: 0),
                                                  flatOffsets: UnsafeBufferPointer(start: nil, count: 0), compact: $0, spilled: nil)) }
        case .spilled(let texts):
            return body(Reader(flatIDs: UnsafeBufferPointer(start: nil, count: 0),
                               flatOffsets: UnsafeBufferPointer(start: nil, count: 0), compact: nil, spilled: Unmanaged.passUnretained(texts)))
        }
    }

    /// Example ids by index; plain pointers, so threads share it without reference counting.
    struct Reader {
        fileprivate let flatIDs: UnsafeBufferPointer<Int32>
        fileprivate let flatOffsets: UnsafeBufferPointer<Int>
        fileprivate let compact: CompactTexts.Reader?
        /// Unretained, as CompactTexts.Reader.spill (and for its reason, not unowned(unsafe)):
        /// the TrainingExamples that made the reader keeps the file for its life.
        fileprivate let spilled: Unmanaged<SpilledTexts>?

        /// Example e's feature ids: a view of the flat buffer, or expanded or read into
        /// `scratch` (valid until its next use; no ids if a read failed, see readFailure).
        func ids(_ e: Int, scratch: ExpansionScratch) -> UnsafeBufferPointer<Int32> {
            if let compact { return compact.expand(e, into: scratch) }
            if let spilled { return UnsafeBufferPointer(start: scratch.ids, count: spilled.takeUnretainedValue().read(e, into: scratch.ids) ?? 0) }
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
