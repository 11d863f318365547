/// What the vocabulary and label set of a training run are built from: every token's
/// count and the distinct labels of some labelled rows. Counts of disjoint row sets
/// merge by adding, so counts made on many machines (one per partition) and merged give
/// exactly the vocabulary and labels one machine builds from all the rows
/// (`Vocabulary.build(counts:)` sorts by count, then bytes, so the order of the rows
/// and of the merge does not matter). Tokens keep the order they were first seen in, so
/// that of two canonically equivalent spellings (which `String` joins) the same one is
/// kept as on one machine when partitions merge in row order.
///
/// JSON form (`json`, `init(json:)`):
///   {"format": "libtextmodel-corpus-counts", "format_version": 1, "rows": N,
///    "tokens": [[token, count], ...], "labels": [label, ...]}
/// `labels` is empty for regression. With hashed features and tokenizer.fit_buckets, also
///   "buckets": B, "buckets_used": hex bit set (bit b of 64-bit word w, little end first:
///   bucket 64w + b) of the buckets the rows' n-grams hash into, so that every process
///   fits the buckets to all the rows (BucketSizing) as one machine does.
public struct CorpusCounts {
    public static let formatName = "libtextmodel-corpus-counts"
    public static let formatVersion = 1

    /// Usable rows counted (rows with an empty text or a missing label are skipped, as training skips them).
    public private(set) var rows = 0
    /// Tokens in first-seen order, with their counts.
    public private(set) var tokens: [String] = []
    public private(set) var counts: [Int] = []
    private var index: [String: Int] = [:]
    /// Distinct labels, in byte order (the model's label order).
    public private(set) var labels: [String] = []

    /// The configured bucket count and the bit set of the buckets the rows use (nil:
    /// no hashed features, no fitting, or counts merged from unlike configs).
    private var usedBuckets: (buckets: Int, seen: [UInt64])?

    public init() {}

    /// How many distinct buckets of `buckets` the counted rows use, when known.
    func bucketsUsed(_ buckets: Int) -> Int? {
        guard let used = usedBuckets, used.buckets == buckets else { return nil }
        return used.seen.reduce(0) { $0 + $1.nonzeroBitCount }
    }

    /// Counts the tokens (as `config.tokenizer` splits them) and labels of `data`.
    public init(config: Config, data: LabelledTexts) {
        let tokenizer = Tokenizer(config.tokenizer)
        var buffer = TokenBuffer()
        for text in data.texts {
            tokenizer.tokenize(text, into: &buffer)
            for t in 0..<buffer.count {
                add(buffer.withToken(t) { String(decoding: $0, as: UTF8.self) }, count: 1)
            }
        }
        rows = data.count
        let buckets = config.tokenizer.hashedFeatures
        if buckets > 0 && config.tokenizer.fitBuckets {
            // The hashed ids do not depend on the vocabulary: encode with none.
            let encoder = FeatureEncoder(config: config.tokenizer, vocabulary: Vocabulary.build(counts: [:], minFreq: 1, maxSize: 3))
            var seen = [UInt64](repeating: 0, count: (buckets + 63) / 64)
            var scratch = FeatureEncoder.Scratch()
            for text in data.texts {
                encoder.encode(text, scratch: &scratch)
                _ = scratch.ids.withUnsafeBufferPointer {
                    BucketSizing.mark($0, base: encoder.vocabulary.count, buckets: buckets, seen: &seen)
                }
            }
            usedBuckets = (buckets, seen)
        }
        labels = config.model.task == .regression ? []
            : Targets.labels(of: data.labels, task: config.model.task, separator: config.data.labelSeparator)
    }

    private mutating func add(_ token: String, count: Int) {
        if let i = index[token] {
            counts[i] += count
        } else {
            index[token] = tokens.count
            tokens.append(token)
            counts.append(count)
        }
    }

    /// Adds `other`'s counts (its new tokens after this one's) and labels.
    public mutating func merge(_ other: CorpusCounts) {
        for (token, count) in zip(other.tokens, other.counts) { add(token, count: count) }
        labels = Array(Set(labels).union(other.labels)).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        rows += other.rows
        if let mine = usedBuckets, let theirs = other.usedBuckets, mine.buckets == theirs.buckets {
            usedBuckets = (mine.buckets, zip(mine.seen, theirs.seen).map { $0 | $1 })
        } else if rows == other.rows {
            usedBuckets = other.usedBuckets   // merged into empty counts
        } else {
            usedBuckets = nil
        }
    }

    /// The vocabulary training builds from these counts (tokenizer.min_freq, max_size).
    func vocabulary(_ config: Config.Tokenizer) -> Vocabulary {
        var all = [String: Int]()
        all.reserveCapacity(tokens.count)
        for (token, count) in zip(tokens, counts) { all[token, default: 0] += count }
        return Vocabulary.build(counts: all, minFreq: config.minFreq, maxSize: config.maxSize)
    }

    public var json: JSONValue {
        .object([
            ("format", .string(CorpusCounts.formatName)),
            ("format_version", .int(Int64(CorpusCounts.formatVersion))),
            ("rows", .int(Int64(rows))),
            ("tokens", .array(zip(tokens, counts).map { .array([.string($0), .int(Int64($1))]) })),
            ("labels", .array(labels.map { .string($0) })),
        ] + (usedBuckets.map { used in
            [("buckets", .int(Int64(used.buckets))), ("buckets_used", .string(CorpusCounts.hex(used.seen)))]
        } ?? []))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// The words of a bit set as hex, each word's 16 digits lowest nibble first.
    private static func hex(_ words: [UInt64]) -> String {
        var out = [UInt8]()
        out.reserveCapacity(words.count * 16)
        for w in words { for k in 0..<16 { out.append(hexDigits[Int((w >> UInt64(4 * k)) & 15)]) } }
        return String(decoding: out, as: UTF8.self)
    }

    /// `hex`'s inverse for `count` words; nil if the text is not that.
    private static func words(hex text: String, count: Int) -> [UInt64]? {
        let digits = Array(text.utf8)
        guard digits.count == count * 16 else { return nil }
        var words = [UInt64](repeating: 0, count: count)
        for (i, d) in digits.enumerated() {
            guard let v = hexDigits.firstIndex(of: d) else { return nil }
            words[i / 16] |= UInt64(v) << UInt64(4 * (i % 16))
        }
        return words
    }

    /// Counts from their JSON form; anything else is a `.invalidArgument` error naming what is wrong.
    public init(json text: String, what: String = "the counts") throws {
        func bad(_ why: String) -> TextModelError { .invalidArgument("\(what) are not corpus counts: \(why)") }
        let value: JSONValue
        do { value = try JSONValue.parse(text, what: what) } catch { throw bad("not valid JSON") }
        guard value["format"]?.stringValue == CorpusCounts.formatName else {
            throw bad("\"format\" is not \"\(CorpusCounts.formatName)\"")
        }
        guard let version = value["format_version"]?.doubleValue, version == Double(CorpusCounts.formatVersion) else {
            throw bad("\"format_version\" is not \(CorpusCounts.formatVersion)")
        }
        func count(_ v: JSONValue?) -> Int? { v?.doubleValue.flatMap { $0 >= 0 && $0 < 9e15 && $0 == $0.rounded() ? Int($0) : nil } }
        guard let rows = count(value["rows"]) else { throw bad("\"rows\" is not a count") }
        guard let items = value["tokens"]?.arrayValue else { throw bad("\"tokens\" is not an array") }
        guard let labelItems = value["labels"]?.arrayValue else { throw bad("\"labels\" is not an array") }
        for (i, item) in items.enumerated() {
            guard let pair = item.arrayValue, pair.count == 2, let token = pair[0].stringValue, let n = count(pair[1]) else {
                throw bad("tokens[\(i)] is not a [token, count] pair")
            }
            add(token, count: n)
        }
        var labels = [String]()
        for (i, item) in labelItems.enumerated() {
            guard let label = item.stringValue else { throw bad("labels[\(i)] is not a string") }
            labels.append(label)
        }
        self.labels = Array(Set(labels)).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        self.rows = rows
        if let b = value["buckets"] {
            guard let buckets = count(b), buckets > 0, buckets <= 10_000_000,
                  let text = value["buckets_used"]?.stringValue,
                  let seen = CorpusCounts.words(hex: text, count: (buckets + 63) / 64) else {
                throw bad("\"buckets\" and \"buckets_used\" are not a bucket count and its hex bit set")
            }
            usedBuckets = (buckets, seen)
        }
    }
}
