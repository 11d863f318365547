// Fuzz target: LabelledTexts.parse in JSON Lines format (JSONLReader), which hands the
// raw bytes of every line — invalid UTF-8 included — to the strict JSON parser.
// Not in the original list of targets: JSON Lines input arrived with the model zoo.
import FuzzSupport
import TextModel

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzInput(data, size)
    var config = Config().data  // Config.Data() is internal: start from a default Config
    // Format "auto" chosen by the name, or an explicit "jsonl"; odd sizes read other fields.
    let explicit = size & 1 == 1
    if explicit {
        config.format = .jsonl
        config.textColumn = "t"
        config.labelColumn = "l"
    }
    var result: LabelledTexts?
    expectOnlyTextModelErrors("JSON Lines parse") {
        result = try LabelledTexts.parse(bytes, source: explicit ? "fuzz-input.csv" : "fuzz-input.jsonl", config: config)
    }
    guard let r = result else { return 0 }
    require(r.texts.count == r.labels.count, "texts/labels count mismatch")
    for (text, label) in zip(r.texts, r.labels) {
        require(!label.isEmpty, "an empty label was kept")
        require(text.contains(where: { !$0.isWhitespace }), "a blank text was kept")
    }
    return 0
}

/// Entry point SwiftPM links as main() (see FuzzSupport.runLibFuzzer).
@_cdecl("FuzzJSONL_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzz)
}
