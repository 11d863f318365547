/// A training set's texts kept as their words, for the bag model trained with Hogwild:
/// the feature ids FeatureEncoder gives a text (its words, hashed word n-grams and
/// character n-grams: ~16 per word) are made again from per-word tables each time a
/// thread trains on the text (`Reader.expand`), into that thread's own scratch, in
/// exactly `FeatureEncoder.encode`'s order, so training reads the same ids in the same
/// order as from the encoded set.
///
/// Why: the encoded set, held for every epoch, cost ~64 bytes per training word and was
/// most of the bag trainer's memory at a million lines; these texts cost ~4 bytes a word,
/// and the tables grow with the vocabulary and buckets, not with the lines.
///
/// Layout of a text: per token one Int32, its vocabulary id (≥ 2), when it is an ASCII
/// word of the vocabulary whose subwords the SubwordTable holds (the encoder's own
/// condition for reading that table): its hash is the word's and its character n-grams
/// the table's. Any other token (unknown, or non-ASCII, whose bytes may differ from its
/// vocabulary entry's and so hash otherwise) is stored whole:
/// [-1 - c, its word id, its hash's low and high 32 bits, its c character n-gram ids].
///
/// The stored texts are in memory, or for a set read from a file (`init(encoder:...)`
/// with `spilling`) in a temporary file (SpilledTexts), read back a text at a time into
/// the thread's scratch: the same ids, so the same model, in memory that does not grow
/// with the corpus's words.
struct CompactTexts {
    /// The stored texts, in the layout above (empty when they are spilled).
    private(set) var stored: EncodedTexts
    /// The stored texts when they are kept in a temporary file instead.
    private let spill: SpilledTexts?
    /// The encoder whose ids the texts expand to (its buckets: the fitted ones, after `refit`).
    private(set) var encoder: FeatureEncoder
    /// FNV-1a of each vocabulary word's bytes (what TokenBuffer hashes an ASCII token to).
    private let wordHashes: [UInt64]
    /// Feature ids of all texts expanded.
    let featureCount: Int
    /// Feature ids of the longest text expanded.
    let longest: Int
    /// Tokens of the text with the most.
    let mostTokens: Int

    /// Whether `encoder`'s ids can be made again from stored words: vocabulary ids (not
    /// hashed words), a SubwordTable when there are character n-grams, and some n-gram
    /// features at all (without them the encoded ids are the words already).
    static func supports(_ encoder: FeatureEncoder) -> Bool {
        let hasher = encoder.hasher
        let characters = hasher.makesCharacterFeatures
        return !encoder.hashesWords && (!characters || encoder.subwords != nil)
            && (characters || (hasher.order >= 2 && hasher.buckets > 0))
    }

    /// Stores `texts` (which `supports(encoder)`), emptying them as it goes as
    /// FeatureEncoder.encode(consuming:) does. `lengths`: each text's encoded length
    /// (FeatureEncoder.encodedLength); `tokens`: each text's token count.
    init(consuming texts: inout [String], lengths: [Int], tokens: [Int32], encoder: FeatureEncoder, threads: Int) {
        self.encoder = encoder
        wordHashes = CompactTexts.wordHashes(encoder.vocabulary)
        featureCount = lengths.reduce(0, +)
        longest = lengths.max() ?? 0
        mostTokens = Int(tokens.max() ?? 0)
        spill = nil
        let count = texts.count
        var shares = CompactTexts.storeShares(consuming: &texts, encoder: encoder, threads: threads,
                                              returningPages: true) { range in
            // One id a token, and a margin for the few tokens stored whole.
            let words = tokens[range].reduce(0) { $0 + Int($1) }
            return words + words / 8 + 64
        }
        if shares.count == 1 {
            stored = shares[0]
        } else {
            var all = EncodedTexts()
            all.reserve(texts: count, ids: shares.reduce(0) { $0 + $1.totalLength })
            // Each share is freed as soon as it is copied.
            for w in shares.indices {
                all.append(contentsOf: shares[w])
                shares[w] = EncodedTexts()
            }
            stored = all
        }
    }

    /// No texts yet, for `append` to store a chunk of texts at a time (training from a
    /// file, whose texts are never all in memory). The totals over every text to come:
    /// `featureCount` its ids expanded, `longest` and `mostTokens` the most ids and tokens
    /// of one text, `texts` and `storedIDs` what to reserve (`storedLength`).
    /// `spilling`: keep the texts in a temporary file (SpilledTexts), not in memory.
    init(encoder: FeatureEncoder, featureCount: Int, longest: Int, mostTokens: Int, texts: Int, storedIDs: Int,
         spilling: Bool = false) throws {
        self.encoder = encoder
        wordHashes = CompactTexts.wordHashes(encoder.vocabulary)
        self.featureCount = featureCount
        self.longest = longest
        self.mostTokens = mostTokens
        stored = EncodedTexts()
        if spilling {
            spill = try SpilledTexts(count: texts)
        } else {
            spill = nil
            stored.reserve(texts: texts, ids: storedIDs)
        }
    }

    /// Texts stored.
    var count: Int { spill?.appended ?? stored.count }

    /// Whether the texts are in a temporary file.
    var isSpilled: Bool { spill != nil }

    /// The error of a read of the temporary file that failed (its text expanded to no ids).
    var readFailure: String? { spill?.failure }

    /// Stores `texts` after those stored already, on up to `threads` threads, emptying them.
    mutating func append(consuming texts: inout [String], threads: Int) throws {
        // Reserved at its full size already (init(encoder:...)): the shares reserve nothing.
        var shares = CompactTexts.storeShares(consuming: &texts, encoder: encoder, threads: threads,
                                              returningPages: false) { _ in 0 }
        for w in shares.indices {
            if let spill { try spill.append(shares[w]) } else { stored.append(contentsOf: shares[w]) }
            shares[w] = EncodedTexts()
        }
    }

    /// Stores `texts` (emptying them) on up to `threads` threads, each a run of consecutive
    /// texts into its own share, reserved at `reserving(range)` ids; the shares in order.
    /// `returningPages`: the first share hands freed text memory back to the system as it goes.
    private static func storeShares(consuming texts: inout [String], encoder: FeatureEncoder, threads: Int,
                                    returningPages: Bool, reserving: (Range<Int>) -> Int) -> [EncodedTexts] {
        let count = texts.count
        let workers = Parallel.workers(threads: threads, items: count, minimumEach: 64)
        var shares = [EncodedTexts](repeating: EncodedTexts(), count: workers)
        texts.withUnsafeMutableBufferPointer { texts in
            shares.withUnsafeMutableBufferPointer { out in
                Parallel.run(workers) { w in
                    let range = (w * count / workers)..<((w + 1) * count / workers)
                    out[w] = CompactTexts.store(texts, range, encoder: encoder, reserving: reserving(range),
                                                returningPages: returningPages && w == 0)
                }
            }
        }
        texts = []
        return shares
    }

    /// How many Int32 the stored layout takes for texts whose tokens were counted by
    /// `counter` (each token once per occurrence), with `encoder`'s vocabulary: one per
    /// ASCII word the SubwordTable holds, 4 + its character n-grams for any other token.
    /// So a set built a chunk at a time is reserved once, at its size.
    static func storedLength(of counter: Vocabulary.Counter, encoder: FeatureEncoder) -> Int {
        let tabled = encoder.subwords?.words ?? Int32.max
        let characters = encoder.hasher.makesCharacterFeatures
        var total = 0, one = TokenBuffer()
        counter.forEachCount { bytes, hash, count in
            let v = encoder.vocabulary.id(of: bytes, hash: hash)
            if Tokenizer.isASCII(bytes) && v > Vocabulary.unknownID && v < tabled {
                total += count
                return
            }
            var whole = 4
            if characters {
                one.removeAll()
                one.append(token: bytes)
                whole += encoder.hasher.featureCount(of: one)
            }
            total += count * whole
        }
        return total
    }

    private static func wordHashes(_ vocabulary: Vocabulary) -> [UInt64] {
        vocabulary.tokens.enumerated().map { v, token in
            v > Int(Vocabulary.unknownID) ? NGramHasher.fnv1a(token.utf8) : 0
        }
    }

    /// Texts `range` in the stored layout, each emptied once stored; with
    /// `returningPages`, the freed pages go back to the system every 65,536 texts.
    private static func store(_ texts: UnsafeMutableBufferPointer<String>, _ range: Range<Int>, encoder: FeatureEncoder,
                              reserving ids: Int, returningPages: Bool) -> EncodedTexts {
        var share = EncodedTexts(), scratch = FeatureEncoder.Scratch(), text = [Int32]()
        // Vocabulary ids below this have their subwords in the table (all, without one).
        let tabled = encoder.subwords?.words ?? Int32.max
        share.reserve(texts: range.count, ids: ids)
        for i in range {
            CompactTexts.store(texts[i], encoder: encoder, tabled: tabled, scratch: &scratch, into: &text)
            texts[i] = ""
            share.append(text)
            if returningPages && i % 65_536 == 65_535 { Memory.returnFreePages() }
        }
        return share
    }

    /// One text in the stored layout, into `out` (emptied first).
    private static func store(_ text: String, encoder: FeatureEncoder, tabled: Int32, scratch: inout FeatureEncoder.Scratch,
                              into out: inout [Int32]) {
        encoder.tokenizer.tokenize(text, into: &scratch.tokens)
        scratch.ids.removeAll(keepingCapacity: true)
        encoder.vocabulary.encode(scratch.tokens, into: &scratch.ids)
        out.removeAll(keepingCapacity: true)
        let characters = encoder.hasher.makesCharacterFeatures, base = encoder.vocabulary.count
        for t in 0..<scratch.tokens.count {
            let v = scratch.ids[t], ascii = scratch.tokens.withToken(t) { Tokenizer.isASCII($0) }
            if ascii && v > Vocabulary.unknownID && v < tabled {
                out.append(v)
                continue
            }
            let head = out.count, hash = scratch.tokens.hashes[t]
            out.append(-1)
            out.append(v)
            out.append(Int32(bitPattern: UInt32(truncatingIfNeeded: hash)))
            out.append(Int32(bitPattern: UInt32(truncatingIfNeeded: hash >> 32)))
            if characters {
                encoder.hasher.characterFeatures(ofToken: t, in: scratch.tokens, base: base, into: &out,
                                                 scratch: &scratch.characters)
            }
            out[head] = Int32(-1 - (out.count - head - 4))
        }
    }

    /// Distinct buckets the expanded texts use (BucketSizing.distinctBuckets of them).
    func distinctBuckets(buckets: Int) -> Int {
        var seen = [UInt64](repeating: 0, count: (buckets + 63) / 64)
        var used = 0
        let scratch = makeScratch()
        withReader { reader in
            for e in 0..<count {
                used += BucketSizing.mark(reader.expand(e, into: scratch), base: encoder.vocabulary.count,
                                          buckets: buckets, seen: &seen)
            }
        }
        return used
    }

    /// Makes the texts expand to the ids of `fitted` (this encoder with `buckets`
    /// folded to a divisor, BucketSizing): the stored character n-gram ids are folded
    /// in place; the tables and the word n-grams come from `fitted` itself.
    mutating func refit(_ fitted: FeatureEncoder) throws {
        let base = encoder.vocabulary.count, buckets = fitted.hasher.buckets
        // Runs of whole texts, so a token's header is read before its n-grams.
        func fold(_ ids: UnsafeMutableBufferPointer<Int32>) {
            var k = 0
            while k < ids.count {
                let v = ids[k]
                guard v < 0 else { k += 1; continue }
                let c = Int(-1 - v)
                for i in (k + 4)..<(k + 4 + c) where Int(ids[i]) >= base {
                    ids[i] = Int32(base + (Int(ids[i]) - base) % buckets)
                }
                k += 4 + c
            }
        }
        if let spill { try spill.update(fold) } else { stored.withMutableIDs(fold) }
        encoder = fitted
    }

    /// Every text expanded, flat (a step that packs batches needs them so).
    func expandedAll() -> EncodedTexts {
        let scratch = makeScratch()
        var all = EncodedTexts()
        all.reserve(texts: count, ids: featureCount)
        withReader { reader in
            for e in 0..<count { all.append(reader.expand(e, into: scratch)) }
        }
        return all
    }

    /// Scratch for one thread's `Reader.expand` calls.
    func makeScratch() -> ExpansionScratch {
        ExpansionScratch(ids: longest, tokens: mostTokens, stored: spill?.longest ?? 0)
    }

    /// Calls `body` with a reader of these texts, valid only inside it.
    func withReader<R>(_ body: (Reader) -> R) -> R {
        stored.withUnsafeStorage { ids, offsets in
            wordHashes.withUnsafeBufferPointer { hashes in
                func read(_ subwordIDs: UnsafeBufferPointer<Int32>, _ subwordOffsets: UnsafeBufferPointer<Int>) -> R {
                    body(Reader(stored: ids, offsets: offsets, spill: spill.map { Unmanaged.passUnretained($0) }, hashes: hashes, subwordIDs: subwordIDs,
                                subwordOffsets: subwordOffsets, hasher: encoder.hasher, base: encoder.vocabulary.count))
                }
                if let table = encoder.subwords { return table.withUnsafeStorage(read) }
                return read(UnsafeBufferPointer(start: nil, count: 0), UnsafeBufferPointer(start: nil, count: 0))
            }
        }
    }

    /// Expands stored texts; plain pointers, so threads share it without reference counting.
    struct Reader {
        let stored: UnsafeBufferPointer<Int32>
        let offsets: UnsafeBufferPointer<Int>
        /// Unretained: the set outlives its readers, and threads must not contend on a
        /// count. (Not `unowned(unsafe) SpilledTexts?`: an Optional of this struct, with
        /// that field nil, read as nil in the optimised build.)
        let spill: Unmanaged<SpilledTexts>?
        let hashes: UnsafeBufferPointer<UInt64>
        let subwordIDs: UnsafeBufferPointer<Int32>
        /// Empty when the encoder makes no character n-grams.
        let subwordOffsets: UnsafeBufferPointer<Int>
        let hasher: NGramHasher
        let base: Int

        /// Text e's feature ids, written into `scratch` (what the returned buffer views,
        /// until the next call with it): its word ids, then its word n-grams, then each
        /// token's character n-grams, FeatureEncoder.encode's order. Ids past the
        /// scratch's capacity (never, when it was sized by this set) are dropped.
        func expand(_ e: Int, into scratch: ExpansionScratch) -> UnsafeBufferPointer<Int32> {
            let out = scratch.ids, capacity = scratch.idCapacity
            let tokenHashes = scratch.hashes, tokenCapacity = scratch.tokenCapacity
            var n = 0
            // Ids are written only below `capacity`, but always counted.
            func copy(_ ids: UnsafePointer<Int32>?, _ count: Int) {
                if let ids, count > 0 && n < capacity { (out + n).update(from: ids, count: min(count, capacity - n)) }
                n += count
            }
            // The text's stored ids: a view of the store, or read from the file into the scratch.
            let stored: UnsafeBufferPointer<Int32>, start: Int, end: Int
            if let spill {
                guard let n = spill._withUnsafeGuaranteedRef({ $0.read(e, into: scratch.stored) }) else { return UnsafeBufferPointer(start: out, count: 0) }
                (stored, start, end) = (UnsafeBufferPointer(start: scratch.stored, count: n), 0, n)
            } else {
                (stored, start, end) = (self.stored, offsets[e], offsets[e + 1])
            }
            var k = start, t = 0
            while k < end {
                let v = stored[k]
                let word = v >= 0 ? v : stored[k + 1]
                if n < capacity { out[n] = word }
                n += 1
                if t < tokenCapacity {
                    tokenHashes[t] = v >= 0 ? hashes[Int(v)]
                        : UInt64(UInt32(bitPattern: stored[k + 2])) | UInt64(UInt32(bitPattern: stored[k + 3])) << 32
                }
                t += 1
                k += v >= 0 ? 1 : 4 + Int(-1 - v)
            }
            hasher.forEachFeature(ofHashes: UnsafeBufferPointer(start: tokenHashes, count: min(t, tokenCapacity)), base: base) { id in
                if n < capacity { out[n] = id }
                n += 1
            }
            k = start
            while k < end {
                let v = stored[k]
                if v >= 0 {
                    if !subwordOffsets.isEmpty {
                        let from = subwordOffsets[Int(v)]
                        copy(subwordIDs.baseAddress.map { $0 + from }, subwordOffsets[Int(v) + 1] - from)
                    }
                    k += 1
                } else {
                    let c = Int(-1 - v)
                    copy(stored.baseAddress.map { $0 + k + 4 }, c)
                    k += 4 + c
                }
            }
            return UnsafeBufferPointer(start: out, count: min(n, capacity))
        }
    }
}

/// One thread's scratch for CompactTexts.Reader.expand: a text's feature ids and its
/// tokens' hashes, allocated once at the set's longest (nothing allocates per text),
/// with a cache line either side so two threads' scratch never share one.
final class ExpansionScratch {
    let ids: UnsafeMutablePointer<Int32>
    let idCapacity: Int
    let hashes: UnsafeMutablePointer<UInt64>
    let tokenCapacity: Int
    /// A spilled text's stored ids, read from its file (room for the longest).
    let stored: UnsafeMutablePointer<Int32>
    private let idBlock: UnsafeMutableRawPointer
    private let hashBlock: UnsafeMutableRawPointer
    private let storedBlock: UnsafeMutableRawPointer
    private static let line = 64

    init(ids: Int, tokens: Int, stored: Int = 0) {
        idCapacity = max(ids, 0)
        tokenCapacity = max(tokens, 0)
        idBlock = UnsafeMutableRawPointer.allocate(byteCount: 4 * idCapacity + 2 * ExpansionScratch.line, alignment: ExpansionScratch.line)
        hashBlock = UnsafeMutableRawPointer.allocate(byteCount: 8 * tokenCapacity + 2 * ExpansionScratch.line, alignment: ExpansionScratch.line)
        storedBlock = UnsafeMutableRawPointer.allocate(byteCount: 4 * max(stored, 0) + 2 * ExpansionScratch.line, alignment: ExpansionScratch.line)
        self.ids = (idBlock + ExpansionScratch.line).bindMemory(to: Int32.self, capacity: idCapacity)
        hashes = (hashBlock + ExpansionScratch.line).bindMemory(to: UInt64.self, capacity: tokenCapacity)
        self.stored = (storedBlock + ExpansionScratch.line).bindMemory(to: Int32.self, capacity: max(stored, 0))
    }

    deinit {
        idBlock.deallocate()
        hashBlock.deallocate()
        storedBlock.deallocate()
    }
}
