/// The tokenizer's byte path: the tokens of `tokenize(_:)`, written as UTF-8 bytes into
/// a reusable TokenBuffer for the encoder.
///
/// Why: most texts are ASCII, and for them every rule of `tokenize(_:)` (separators,
/// URLs, word characters, in-word apostrophes, one token per other character, ASCII
/// lower-casing) is a test on one byte. The loop below applies those same rules to the
/// bytes, with no `String`, scalar array or lower-cased copy of the text. Any other
/// text is decoded into the buffer's reusable scalars and read by the rule loop itself
/// (`scan`), which writes its tokens' bytes straight into the buffer: no `String` either.
/// TokenizerBytesTests checks that both give the tokens of `tokenize(_:)`.
extension Tokenizer {
    /// `tokenize(text)` into `buffer`, which is emptied first.
    func tokenize(_ text: String, into buffer: inout TokenBuffer) {
        buffer.removeAll()
        let done = text.utf8.withContiguousStorageIfAvailable { utf8 -> Bool in
            tokenizeBytes(utf8, into: &buffer)
            return true
        }
        if done == true { return }
        for token in tokenize(text) { buffer.append(token: token.utf8) }
    }

    /// `tokenize(_:into:)` of the UTF-8 bytes of a C string (no NUL), without making a
    /// String: invalid sequences are read as `String(decoding:as:)` repairs them (one
    /// U+FFFD each), so both entries give the same tokens.
    func tokenize(utf8 text: UnsafeBufferPointer<UInt8>, into buffer: inout TokenBuffer) {
        buffer.removeAll()
        tokenizeBytes(text, into: &buffer)
    }

    private func tokenizeBytes(_ text: UnsafeBufferPointer<UInt8>, into buffer: inout TokenBuffer) {
        if Tokenizer.isASCII(text) {
            tokenizeASCII(text, into: &buffer)
        } else {
            var scalars = buffer.takeScalars()
            Tokenizer.decode(text, lowercase: lowercase, into: &scalars)
            scan(scalars, into: &buffer)
            buffer.returnScalars(scalars)
        }
    }

    /// The scalars of `String(decoding: text, as: UTF8.self)`, lower-cased as
    /// `lowercasedScalars` does when `lowercase`, appended to `out` (emptied first).
    static func decode(_ text: UnsafeBufferPointer<UInt8>, lowercase: Bool, into out: inout [Unicode.Scalar]) {
        out.removeAll(keepingCapacity: true)
        out.reserveCapacity(text.count)
        var parser = Unicode.UTF8.ForwardParser()
        var bytes = text.makeIterator()
        while true {
            let scalar: Unicode.Scalar
            switch parser.parseScalar(from: &bytes) {
            case .valid(let encoded): scalar = Unicode.UTF8.decode(encoded)
            case .error: scalar = "\u{FFFD}"
            case .emptyInput: return
            }
            if !lowercase {
                out.append(scalar)
            } else if scalar.isASCII {
                out.append(scalar.value >= 0x41 && scalar.value <= 0x5A ? Unicode.Scalar(UInt8(scalar.value + 32)) : scalar)
            } else if !scalar.properties.changesWhenLowercased {
                // Its lowercaseMapping is itself (every scalar checked, TokenizerBytesTests),
                // found without the mapping's String.
                out.append(scalar)
            } else {
                out.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
            }
        }
    }

    /// A word (word bytes, with apostrophes between them) goes into the buffer in one
    /// piece, copied, lower-cased and hashed in one pass; every other token is one byte
    /// or a URL. No token is open between pieces, which the rules of `tokenize(_:)` see
    /// the same way: a word ends at the first byte that cannot continue it. Tokens are
    /// written straight into the buffer's storage (TokenBuffer.appendTokens): a text of
    /// n bytes makes at most n tokens of at most n + n/4 + 5 bytes (a URL, 4 bytes at
    /// least, becomes the 5 of "<url>").
    private func tokenizeASCII(_ text: UnsafeBufferPointer<UInt8>, into buffer: inout TokenBuffer) {
        let n = text.count
        let room = max(0, min(n, maxLength - buffer.count))
        guard room > 0, let src = text.baseAddress else { return }
        let lowercase = self.lowercase, replaceURLs = self.replaceURLs
        buffer.appendTokens(maxBytes: n + n / 4 + 5, maxTokens: room) { w in
            var i = 0, bytes = 0, tokens = 0
            while i < n && tokens < room {
                let b = src[i]
                if b <= 0x20 || b == 0x7F {
                    i += 1
                    continue
                }
                var h = NGramHasher.fnvOffset
                if replaceURLs, let length = Tokenizer.urlLength(text, at: i) {
                    for c in Tokenizer.urlTokenBytes {
                        w.bytes[bytes] = c
                        bytes += 1
                        h = (h ^ UInt64(c)) &* NGramHasher.fnvPrime
                    }
                    i += length
                } else if Tokenizer.isWordByte(b) {
                    var j = i
                    while j < n {
                        var c = src[j]
                        guard Tokenizer.isWordByte(c) || (c == 0x27 && j > i && j + 1 < n && Tokenizer.isWordByte(src[j + 1])) else { break }
                        if lowercase && c >= 0x41 && c <= 0x5A { c += 32 }
                        w.bytes[bytes] = c
                        bytes += 1
                        h = (h ^ UInt64(c)) &* NGramHasher.fnvPrime
                        j += 1
                    }
                    i = j
                } else {
                    w.bytes[bytes] = b
                    bytes += 1
                    h = (h ^ UInt64(b)) &* NGramHasher.fnvPrime
                    i += 1
                }
                w.ends[tokens] = w.byteBase + bytes
                w.hashes[tokens] = h
                tokens += 1
            }
            return (bytes, tokens)
        }
    }

    /// The bytes of `urlToken`.
    static let urlTokenBytes: [UInt8] = Array(urlToken.utf8)

    static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var any: UInt8 = 0
        for b in bytes { any |= b }
        return any < 0x80
    }

    /// 0-9, A-Z, a-z or _: one bit of a 128-bit set (bits 48-57 of the low word; 1-26,
    /// 31 and 33-58 of the high one), a shift instead of four compares and branches.
    @inline(__always)
    static func isWordByte(_ b: UInt8) -> Bool {
        let low: UInt64 = 0x03FF_0000_0000_0000, high: UInt64 = 0x07FF_FFFE_87FF_FFFE
        return b < 64 ? (low >> UInt64(b)) & 1 != 0 : b < 128 && (high >> UInt64(b &- 64)) & 1 != 0
    }

    /// Length in bytes of a URL at `i` of ASCII text (as `urlLength(_:at:)`), or nil.
    static func urlLength(_ text: UnsafeBufferPointer<UInt8>, at i: Int) -> Int? {
        func hasPrefix(_ prefix: StaticString) -> Bool {
            guard i + prefix.utf8CodeUnitCount <= text.count else { return false }
            let p = prefix.utf8Start
            for k in 0..<prefix.utf8CodeUnitCount {
                var b = text[i + k]
                if b >= 0x41 && b <= 0x5A { b += 32 }
                if b != p[k] { return false }
            }
            return true
        }
        let first = text[i] | 0x20
        guard (first == 0x68 || first == 0x77) && (hasPrefix("http://") || hasPrefix("https://") || hasPrefix("www.")) else { return nil }
        var j = i
        while j < text.count && text[j] > 0x20 && text[j] != 0x7F { j += 1 }
        return j - i
    }
}
