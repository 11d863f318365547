/// One text's tokens as UTF-8 bytes in a reusable buffer, each with its FNV-1a hash:
/// all that encoding needs from the tokenizer (vocabulary lookup, word n-gram hashes,
/// character n-grams), without a `String` per token.
///
/// Why: building a `String` for every token, then hashing it again for the vocabulary
/// dictionary, was most of the time a bag model spent before its first epoch (tokenising
/// a corpus twice: to count, then to encode). Each encoding thread keeps one buffer and
/// refills it per text, so encoding allocates nothing per token.
struct TokenBuffer {
    /// Every token's bytes, back to back; the open token (being built) at the end.
    private(set) var bytes: [UInt8] = []
    /// Token i is bytes[ends[i - 1] ..< ends[i]] (from 0 for i = 0).
    private(set) var ends: [Int] = []
    /// FNV-1a of each token's bytes (NGramHasher.fnv1a), the same hash word n-grams use.
    private(set) var hashes: [UInt64] = []
    /// The tokenizer's decoded scalars of a non-ASCII text, kept for their capacity.
    private var scalars: [Unicode.Scalar] = []

    init() {}

    /// A buffer holding `tokens`.
    init(_ tokens: [String]) {
        for t in tokens { append(token: t.utf8) }
    }

    /// Closed tokens.
    var count: Int { ends.count }
    var isEmpty: Bool { ends.isEmpty }
    /// Whether a token is being built (bytes appended since the last close).
    var hasOpenToken: Bool { bytes.count > (ends.last ?? 0) }

    func start(_ i: Int) -> Int { i == 0 ? 0 : ends[i - 1] }

    /// Empties the buffer, keeping its capacity.
    mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
        hashes.removeAll(keepingCapacity: true)
    }

    /// Adds a byte to the open token.
    mutating func appendToOpen(_ byte: UInt8) { bytes.append(byte) }

    /// Closes the open token, if there is one.
    mutating func closeToken() {
        let start = ends.last ?? 0
        guard bytes.count > start else { return }
        ends.append(bytes.count)
        // Over the buffer's own bytes: an ArraySlice of them retained and released the
        // storage for every token.
        hashes.append(bytes.withUnsafeBufferPointer { NGramHasher.fnv1a(UnsafeBufferPointer(rebasing: $0[start...])) })
    }

    /// Drops the open token's bytes (a text cut at max_length drops a word in progress).
    mutating func discardOpenToken() { bytes.removeLast(bytes.count - (ends.last ?? 0)) }

    /// Adds a whole token (closing any open one first).
    mutating func append<C: Collection>(token utf8: C) where C.Element == UInt8 {
        closeToken()
        bytes.append(contentsOf: utf8)
        closeToken()
    }

    /// Adds a whole token of ASCII bytes (closing any open one first), with A–Z made
    /// a–z when `lowercase`: one copy, then the case and the hash in one pass over it.
    mutating func append(asciiWord word: UnsafeBufferPointer<UInt8>, lowercase: Bool) {
        closeToken()
        guard !word.isEmpty else { return }
        let start = bytes.count
        bytes.append(contentsOf: word)
        let hash = bytes.withUnsafeMutableBufferPointer { all -> UInt64 in
            var h = NGramHasher.fnvOffset
            for k in start..<all.count {
                var b = all[k]
                if lowercase && b >= 0x41 && b <= 0x5A { b += 32; all[k] = b }
                h = (h ^ UInt64(b)) &* NGramHasher.fnvPrime
            }
            return h
        }
        ends.append(bytes.count)
        hashes.append(hash)
    }

    /// Token i's bytes, for the duration of `body`.
    func withToken<R>(_ i: Int, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        bytes.withUnsafeBufferPointer { all in body(UnsafeBufferPointer(rebasing: all[start(i)..<ends[i]])) }
    }

    /// Room for whole tokens written straight into the buffer's storage (the ASCII
    /// tokenizer's): `bytes`, `ends` and `hashes` have room for what `appendTokens`
    /// offered, and the first free byte and token are at `byteBase` and `tokenBase`.
    struct Writer {
        let bytes: UnsafeMutablePointer<UInt8>
        let ends: UnsafeMutablePointer<Int>
        let hashes: UnsafeMutablePointer<UInt64>
        let byteBase: Int
    }

    /// Appends whole tokens (closing any open one first) that `fill` writes into room for
    /// up to `maxBytes` bytes and `maxTokens` tokens; `fill` returns how many bytes and
    /// tokens it wrote, every end byte-relative to the buffer (`byteBase` + offset).
    ///
    /// Why: appending each token through the arrays checked capacity and uniqueness and
    /// copied generically for every token (half of an ASCII text's tokenising). The
    /// room is made by appending zeros (one fill per text), then cut to what was written.
    mutating func appendTokens(maxBytes: Int, maxTokens: Int, _ fill: (Writer) -> (bytes: Int, tokens: Int)) {
        closeToken()
        let byteBase = bytes.count, tokenBase = ends.count
        bytes.append(contentsOf: repeatElement(0, count: maxBytes))
        ends.append(contentsOf: repeatElement(0, count: maxTokens))
        hashes.append(contentsOf: repeatElement(0, count: maxTokens))
        let written = bytes.withUnsafeMutableBufferPointer { b in
            ends.withUnsafeMutableBufferPointer { e in
                hashes.withUnsafeMutableBufferPointer { h in
                    fill(Writer(bytes: b.baseAddress! + byteBase, ends: e.baseAddress! + tokenBase,
                                hashes: h.baseAddress! + tokenBase, byteBase: byteBase))
                }
            }
        }
        bytes.removeLast(maxBytes - min(max(written.bytes, 0), maxBytes))
        ends.removeLast(maxTokens - min(max(written.tokens, 0), maxTokens))
        hashes.removeLast(maxTokens - min(max(written.tokens, 0), maxTokens))
    }

    /// Calls `body` with every token's bytes, the ends and the hashes as buffers (token i
    /// is bytes[ends[i - 1] ..< ends[i]]), for loops over all tokens with no array
    /// access per token.
    func withStorage<R>(_ body: (UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<Int>, UnsafeBufferPointer<UInt64>) -> R) -> R {
        bytes.withUnsafeBufferPointer { bytes in
            ends.withUnsafeBufferPointer { ends in hashes.withUnsafeBufferPointer { hashes in body(bytes, ends, hashes) } }
        }
    }

    /// The reusable scalar array, moved out (so that filling it copies nothing).
    mutating func takeScalars() -> [Unicode.Scalar] {
        var out = [Unicode.Scalar]()
        swap(&out, &scalars)
        return out
    }

    /// Gives back what `takeScalars` took, to be reused by the next text.
    mutating func returnScalars(_ array: [Unicode.Scalar]) { scalars = array }

    /// Token i as a String (tests and the non-ASCII vocabulary path).
    func string(_ i: Int) -> String { String(decoding: bytes[start(i)..<ends[i]], as: UTF8.self) }
}

/// The rule loop (Tokenizer.scan) writing tokens straight into the buffer, as UTF-8.
extension TokenBuffer: TokenSink {
    mutating func extendWord(_ s: Unicode.Scalar) { appendUTF8(s) }
    mutating func endWord(_ range: Range<Int>) { closeToken() }
    mutating func url(_ range: Range<Int>) { append(token: Tokenizer.urlTokenBytes) }
    mutating func single(_ s: Unicode.Scalar, _ range: Range<Int>) {
        closeToken()
        appendUTF8(s)
        closeToken()
    }

    private mutating func appendUTF8(_ s: Unicode.Scalar) {
        let v = s.value
        if v < 0x80 {
            bytes.append(UInt8(v))
        } else {
            UTF8.encode(s) { bytes.append($0) }
        }
    }
}
