// Fuzz target: Tokenizer.tokenize on arbitrary bytes decoded as UTF-8 (invalid
// sequences become U+FFFD), then Vocabulary.build / encode on the tokens.
//
// The first input byte picks the options: bit 0 lowercase, bit 1 replace_urls,
// bits 2-7 the max_length (0 → 128, the default).
import FuzzSupport
import TextModel

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var cursor = ByteCursor(fuzzInput(data, size))
    let options = cursor.byte()
    var config = Config().tokenizer  // Config.Tokenizer() is internal: start from a default Config
    config.lowercase = options & 1 != 0
    config.replaceURLs = options & 2 != 0
    let length = Int(options >> 2)
    config.maxLength = length == 0 ? 128 : length
    let text = String(decoding: cursor.rest, as: UTF8.self)

    let tokenizer = Tokenizer(config)
    let tokens = tokenizer.tokenize(text)
    require(tokens.count <= config.maxLength, "\(tokens.count) tokens, more than max_length \(config.maxLength)")
    for token in tokens {
        require(!token.isEmpty, "an empty token")
        for s in token.unicodeScalars {
            require(!isSeparator(s), "token \(token.debugDescription) holds separator U+\(String(s.value, radix: 16))")
        }
    }
    // Same text, same tokens.
    require(tokenizer.tokenize(text) == tokens, "tokenize is not deterministic")

    let vocabulary = Vocabulary.build(from: [tokens, tokens], minFreq: 1, maxSize: 64)
    require(vocabulary.count <= 64, "vocabulary larger than max_size")
    for id in vocabulary.encode(tokens) {
        require(id >= 0 && Int(id) < vocabulary.count, "id \(id) outside the vocabulary")
    }
    var restored: Vocabulary?
    expectOnlyTextModelErrors("Vocabulary(tokens:)") { restored = try Vocabulary(tokens: vocabulary.tokens) }
    require(restored != nil, "a built vocabulary does not restore from its own token list: \(vocabulary.tokens)")
    return 0
}

/// What the tokenizer documents as separators (never part of a token): ASCII controls
/// and space, Unicode whitespace, controls, and format characters other than joiners.
private func isSeparator(_ s: Unicode.Scalar) -> Bool {
    if s.isASCII { return s.value <= 0x20 || s.value == 0x7F }
    let joiner = s == "\u{200D}" || (s.value >= 0xFE00 && s.value <= 0xFE0F)
    return s.properties.isWhitespace || s.properties.generalCategory == .control
        || (s.properties.generalCategory == .format && !joiner)
}

/// Entry point SwiftPM links as main() (see FuzzSupport.runLibFuzzer).
@_cdecl("FuzzTokenizer_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzz)
}
