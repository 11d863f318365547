/// Turns raw text into tokens: optional Unicode lower-casing, URLs folded into `<url>`,
/// words (letters, digits, marks, `_`, in-word apostrophes) kept whole, and every other
/// visible character (punctuation, symbols, emoji) a token of its own.
public struct Tokenizer {
    public static let urlToken = "<url>"

    public let lowercase: Bool
    public let replaceURLs: Bool
    public let maxLength: Int

    public init(_ config: Config.Tokenizer) {
        lowercase = config.lowercase
        replaceURLs = config.replaceURLs
        maxLength = config.maxLength
    }

    /// Tokens of `text`, at most `maxLength` of them.
    public func tokenize(_ text: String) -> [String] {
        var tokens = [String]()
        scan(lowercase ? Tokenizer.lowercasedScalars(text) : Array(text.unicodeScalars)) { token, _ in tokens.append(token) }
        return tokens
    }

    /// The scalars of `text.lowercased()`, without that String: the standard library
    /// lower-cases scalar by scalar (each one's `lowercaseMapping`, as the span path
    /// relies on too), and an ASCII scalar's mapping is its ASCII lower case, taken
    /// here without a String per scalar (lowercased() was half the time of a text
    /// with any non-ASCII character). TokenizerTests checks both agree.
    static func lowercasedScalars(_ text: String) -> [Unicode.Scalar] {
        var out = [Unicode.Scalar]()
        out.reserveCapacity(text.utf8.count)
        for s in text.unicodeScalars {
            if s.isASCII {
                out.append(s.value >= 0x41 && s.value <= 0x5A ? Unicode.Scalar(UInt8(s.value + 32)) : s)
            } else {
                out.append(contentsOf: s.properties.lowercaseMapping.unicodeScalars)
            }
        }
        return out
    }

    /// The token rules over (lower-cased) scalars: calls `emit` with each token, at most
    /// `maxLength` of them, and the range of `scalars` it was read from (a word's first
    /// to last kept scalar, joiners inside it included). `tokenize(_:)` and the byte
    /// spans of `tokenizeWithSpans` share this one loop (scan(_:into:)).
    func scan(_ scalars: [Unicode.Scalar], _ emit: (String, Range<Int>) -> Void) {
        withoutActuallyEscaping(emit) { emit in
            var sink = StringTokens(emit: emit)
            scan(scalars, into: &sink)
        }
    }

    /// The one rule loop: tells `sink` each token, at most `maxLength` of them, as it
    /// reads it from `scalars` (a word scalar by scalar, then its end).
    func scan<Sink: TokenSink>(_ scalars: [Unicode.Scalar], into sink: inout Sink) {
        var count = 0
        var wordOpen = false
        var wordStart = 0, wordEnd = 0
        var i = 0
        func flush() {
            if wordOpen {
                sink.endWord(wordStart..<wordEnd)
                count += 1
                wordOpen = false
            }
        }
        func extend(_ s: Unicode.Scalar) {
            if !wordOpen { wordStart = i; wordOpen = true }
            sink.extendWord(s)
            wordEnd = i + 1
        }
        while i < scalars.count && count < maxLength {
            let s = scalars[i]
            if Tokenizer.isSeparator(s) {
                flush()
                i += 1
            } else if replaceURLs && !wordOpen, case let length = Tokenizer.urlLength(scalars, at: i), length > 0 {
                sink.url(i..<(i + length))
                count += 1
                i += length
            } else if Tokenizer.isWordScalar(s) {
                extend(s)
                i += 1
            } else if Tokenizer.isApostrophe(s), wordOpen, i + 1 < scalars.count,
                      Tokenizer.isWordScalar(scalars[i + 1]) {
                extend(s)
                i += 1
            } else if Tokenizer.isJoiner(s) {
                i += 1  // zero-width joiners and variation selectors carry no meaning alone
            } else {
                flush()
                if count < maxLength {
                    sink.single(s, i..<(i + 1))
                    count += 1
                }
                i += 1
            }
        }
        if count < maxLength { flush() }
    }

    static func isSeparator(_ s: Unicode.Scalar) -> Bool {
        if s.isASCII { return s.value <= 0x20 || s.value == 0x7F }
        return s.properties.isWhitespace || s.properties.generalCategory == .control
            || s.properties.generalCategory == .format && !isJoiner(s)
    }

    static func isWordScalar(_ s: Unicode.Scalar) -> Bool {
        if s.isASCII {
            let v = s.value
            return (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A) || v == 0x5F
        }
        if isJoiner(s) { return false }
        let p = s.properties
        switch p.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .letterNumber, .otherNumber:
            return true
        default:
            return p.isAlphabetic
        }
    }

    static func isApostrophe(_ s: Unicode.Scalar) -> Bool { s == "'" || s == "\u{2019}" }

    static func isJoiner(_ s: Unicode.Scalar) -> Bool {
        s == "\u{200D}" || (s.value >= 0xFE00 && s.value <= 0xFE0F)
    }

    /// Length in scalars of a URL starting at `i` ("http://", "https://" or "www."
    /// up to the next separator), or 0.
    static func urlLength(_ scalars: [Unicode.Scalar], at i: Int) -> Int {
        func hasPrefix(_ p: String) -> Bool {
            var j = i
            for c in p.unicodeScalars {
                guard j < scalars.count else { return false }
                var s = scalars[j]
                if s.value >= 0x41 && s.value <= 0x5A { s = Unicode.Scalar(UInt8(s.value + 32)) }
                if s != c { return false }
                j += 1
            }
            return true
        }
        // Most words start with neither letter: one test instead of three prefixes.
        let first = scalars[i].value | 0x20
        guard first == 0x68 || first == 0x77,
              hasPrefix("http://") || hasPrefix("https://") || hasPrefix("www.") else { return 0 }
        var j = i
        while j < scalars.count && !isSeparator(scalars[j]) { j += 1 }
        return j - i
    }
}

/// What `Tokenizer.scan(_:into:)` tells as it reads tokens: a word's scalars, then
/// its end; a folded URL; a token of one scalar. Ranges are indices into the scalars.
protocol TokenSink {
    mutating func extendWord(_ s: Unicode.Scalar)
    mutating func endWord(_ range: Range<Int>)
    mutating func url(_ range: Range<Int>)
    mutating func single(_ s: Unicode.Scalar, _ range: Range<Int>)
}

/// Tokens as Strings, for `tokenize(_:)` and the span path.
private struct StringTokens: TokenSink {
    var word = String.UnicodeScalarView()
    let emit: (String, Range<Int>) -> Void

    mutating func extendWord(_ s: Unicode.Scalar) { word.append(s) }
    mutating func endWord(_ range: Range<Int>) {
        emit(String(word), range)
        word = String.UnicodeScalarView()
    }
    func url(_ range: Range<Int>) { emit(Tokenizer.urlToken, range) }
    func single(_ s: Unicode.Scalar, _ range: Range<Int>) { emit(String(Character(s)), range) }
}
