// Fuzz target: LabelledTexts.parse in fastText format (FastTextReader).
import FuzzSupport
import TextModel

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzInput(data, size)
    var config = Config().data  // Config.Data() is internal: start from a default Config
    // Format "auto" with a non-CSV name, or an explicit "fasttext" that must win over a ".csv" name.
    let explicit = size & 1 == 1
    if explicit { config.format = .fasttext }
    var result: LabelledTexts?
    expectOnlyTextModelErrors("fastText parse") {
        result = try LabelledTexts.parse(bytes, source: explicit ? "fuzz-input.csv" : "fuzz-input.txt", config: config)
    }
    guard let r = result else { return 0 }
    require(r.texts.count == r.labels.count, "texts/labels count mismatch")
    let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).count
    require(r.count + r.skipped <= lines, "more rows (\(r.count) + \(r.skipped) skipped) than lines (\(lines))")
    for (text, label) in zip(r.texts, r.labels) {
        require(!label.isEmpty, "an empty label was kept")
        require(!label.utf8.contains(where: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A }), "a label holds whitespace: \(label)")
        require(text.contains(where: { !$0.isWhitespace }), "a blank text was kept")
    }
    return 0
}

/// Entry point SwiftPM links as main() (see FuzzSupport.runLibFuzzer).
@_cdecl("FuzzFastText_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzz)
}
