/// A token with the bytes of the original text it was read from.
public struct SpannedToken: Equatable {
    /// The token as the model reads it (lower-cased when the tokenizer lower-cases,
    /// `<url>` for a folded URL, U+FFFD for invalid UTF-8): always valid UTF-8.
    public let text: String
    /// Byte offsets into the original text: `text[bytes]` is what the token was read
    /// from (for invalid UTF-8, the invalid bytes themselves).
    public let bytes: Range<Int>
}

/// The tokenizer's span path: the tokens of `tokenize(_:)`, each with its byte range
/// in the text as given, so a caller can highlight the text itself.
///
/// Why a path of its own: `tokenize(_:)` lower-cases the whole text first, and a
/// scalar's lower case may be longer or shorter in UTF-8 ("İ" is one scalar of two
/// bytes, its lower case two scalars of three), so offsets into the lower-cased text
/// are not offsets into the original. Here every scalar is decoded from the original
/// bytes with its byte range, lower-cased on its own (exactly what `String.lowercased()`
/// does, scalar by scalar), and each piece of its lower case keeps the original range;
/// then the one rule loop (`scan`) runs. Invalid UTF-8 decodes as `String(decoding:)`
/// repairs it, one U+FFFD per maximal invalid subsequence, whose range covers those
/// bytes. TokenSpanTests checks the tokens against `tokenize(_:)` of the repaired text.
extension Tokenizer {
    /// Tokens of the UTF-8 bytes `utf8` (valid or not) with their byte ranges.
    public func tokenizeWithSpans<C: Collection>(utf8: C) -> [SpannedToken] where C.Element == UInt8 {
        var scalars = [Unicode.Scalar](), ranges = [Range<Int>]()
        scalars.reserveCapacity(utf8.count)
        ranges.reserveCapacity(utf8.count)
        var parser = Unicode.UTF8.ForwardParser()
        var bytes = utf8.makeIterator()
        var offset = 0
        decoding: while true {
            let scalar: Unicode.Scalar, length: Int
            switch parser.parseScalar(from: &bytes) {
            case .valid(let encoded):
                scalar = Unicode.UTF8.decode(encoded)
                length = encoded.count
            case .error(let invalid):
                scalar = "\u{FFFD}"
                length = invalid
            case .emptyInput:
                break decoding
            }
            let range = offset..<(offset + length)
            offset += length
            if lowercase && !scalar.isASCII {
                for lower in scalar.properties.lowercaseMapping.unicodeScalars {
                    scalars.append(lower)
                    ranges.append(range)
                }
            } else {
                let upper = lowercase && scalar.value >= 0x41 && scalar.value <= 0x5A
                scalars.append(upper ? Unicode.Scalar(UInt8(scalar.value + 32)) : scalar)
                ranges.append(range)
            }
        }
        var tokens = [SpannedToken]()
        scan(scalars) { token, span in
            tokens.append(SpannedToken(text: token, bytes: ranges[span.lowerBound].lowerBound..<ranges[span.upperBound - 1].upperBound))
        }
        return tokens
    }

    /// `tokenizeWithSpans(utf8:)` of a Swift string's UTF-8.
    public func tokenizeWithSpans(_ text: String) -> [SpannedToken] { tokenizeWithSpans(utf8: Array(text.utf8)) }
}
