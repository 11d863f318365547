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
/// `labels` is empty for regression.
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

    public init() {}

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
        ])
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
    }
}
