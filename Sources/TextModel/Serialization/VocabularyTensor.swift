/// The vocabulary of a format-5 model file as one `U8` tensor named "vocabulary"
/// (ModelFileFormats), instead of a JSON array in the header: a JSON string of a JSON
/// array costs each token 5 bytes of quotes, escapes and comma and does not shrink with
/// the weights, which kept compact files above a quarter of the f32 file.
///
/// The tokens, in id order, front-coded: for each token
///
///   shared   1 byte: how many leading bytes it shares with the previous token
///            (0 for the first; at most 255 and at most the previous token's length)
///   length   LEB128 unsigned: how many bytes follow (at most maxTokenBytes)
///   suffix   those bytes
///
/// Each token (shared prefix + suffix) must be valid UTF-8; the metadata's
/// `vocabulary_tokens` says how many tokens there are, and the bytes must end exactly
/// after the last one. Ids are in frequency order, but the many tokens of equal count
/// are in byte order, so neighbours often share a prefix (about 2 bytes a token on the
/// tweets).
enum VocabularyTensor {
    static let name = "vocabulary"
    /// Longer tokens are refused (a corrupted length), far above any tokenizer's.
    static let maxTokenBytes = 1 << 20

    static func encode(_ tokens: [String]) -> [UInt8] {
        var out = [UInt8]()
        var previous = [UInt8]()
        for token in tokens {
            let bytes = Array(token.utf8)
            var shared = 0
            while shared < 255 && shared < bytes.count && shared < previous.count && bytes[shared] == previous[shared] { shared += 1 }
            out.append(UInt8(shared))
            var length = bytes.count - shared
            repeat {
                let low = UInt8(length & 0x7F)
                length >>= 7
                out.append(length == 0 ? low : low | 0x80)
            } while length > 0
            out.append(contentsOf: bytes[shared...])
            previous = bytes
        }
        return out
    }

    /// The `count` tokens of `bytes`; any inconsistency is `bad` (never a trap).
    static func decode(_ bytes: ArraySlice<UInt8>, count: Int, bad: (String) -> TextModelError) throws -> [String] {
        var tokens = [String]()
        tokens.reserveCapacity(min(count, bytes.count))
        var at = bytes.startIndex
        var previous = [UInt8]()
        for i in 0..<count {
            guard at < bytes.endIndex else {
                throw bad("its vocabulary tensor ends after \(i) of its \(count) tokens (truncated or corrupted)")
            }
            let shared = Int(bytes[at])
            at += 1
            guard shared <= previous.count else {
                throw bad("vocabulary token \(i) shares \(shared) bytes with a previous token of \(previous.count) (corrupted)")
            }
            var length = 0, shift = 0
            while true {
                guard at < bytes.endIndex, shift <= 21 else {
                    throw bad("vocabulary token \(i) has an unreadable length (truncated or corrupted)")
                }
                let b = bytes[at]
                at += 1
                length |= Int(b & 0x7F) << shift
                shift += 7
                if b & 0x80 == 0 { break }
            }
            guard length <= maxTokenBytes, length <= bytes.endIndex - at else {
                throw bad("vocabulary token \(i) claims \(length) bytes, more than its tensor holds (truncated or corrupted)")
            }
            let token = Array(previous[..<shared]) + bytes[at..<(at + length)]
            at += length
            guard let text = String(validatingUTF8Bytes: token) else {
                throw bad("vocabulary token \(i) is not valid UTF-8 (corrupted)")
            }
            tokens.append(text)
            previous = token
        }
        guard at == bytes.endIndex else {
            throw bad("its vocabulary tensor holds \(bytes.endIndex - at) bytes after its \(count) tokens (corrupted, or the token count is wrong)")
        }
        return tokens
    }
}

extension String {
    /// `bytes` as a string if they are valid UTF-8, nil otherwise (String(decoding:)
    /// would replace the invalid bytes, and NUL-free C strings are not what tokens are).
    init?(validatingUTF8Bytes bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        guard text.utf8.elementsEqual(bytes) else { return nil }
        self = text
    }
}
