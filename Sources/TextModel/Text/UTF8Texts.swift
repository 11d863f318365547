#if canImport(Glibc)
import Glibc
#endif

/// A batch of texts read in place as UTF-8 bytes: a caller's array of NUL-terminated C
/// strings, borrowed for one call. Predicting from it tokenises each text's bytes
/// where they lie (Tokenizer.tokenize(utf8:into:)), with no String or [String] made of
/// the batch; the tokens, and so the predictions, are those of the same texts as
/// `String(cString:)` reads them (invalid sequences as U+FFFD).
///
/// The pointers must stay valid and unchanged until the call returns. A NULL entry
/// reads as an empty text (the C ABI refuses NULL entries before it gets here).
public struct UTF8Texts {
    public let count: Int
    private let strings: UnsafePointer<UnsafePointer<CChar>?>?

    /// The `count` C strings at `strings` (nil only when `count` is 0).
    public init(cStrings strings: UnsafePointer<UnsafePointer<CChar>?>?, count: Int) {
        self.strings = count > 0 ? strings : nil
        self.count = strings == nil ? 0 : count
    }

    /// Text i's bytes, without the terminating NUL.
    subscript(i: Int) -> UnsafeBufferPointer<UInt8> {
        guard let p = strings?[i] else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self), count: strlen(p))
    }
}

/// The texts of one prediction call, either Swift strings or borrowed UTF-8 (the C
/// ABI's); the encoder reads each the way it is given.
enum BatchTexts {
    case strings([String])
    case utf8(UTF8Texts)

    var count: Int {
        switch self {
        case .strings(let texts): return texts.count
        case .utf8(let texts): return texts.count
        }
    }
}
