// Fuzz target: LabelledTexts.parse with a ".csv" source (CSVReader).
//
// An input may start with a directive line `#cols:TEXT,LABEL\n` naming the text and
// label columns (defaults "text" and "label"); the rest is the CSV file.
import FuzzSupport
import TextModel

private let directive = Array("#cols:".utf8)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var bytes = fuzzInput(data, size)
    var config = Config().data  // Config.Data() is internal: start from a default Config
    if bytes.starts(with: directive), let newline = bytes.firstIndex(of: 0x0A) {
        let spec = String(decoding: bytes[directive.count..<newline], as: UTF8.self)
        let parts = spec.split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false)
        if parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty {
            config.textColumn = String(parts[0])
            config.labelColumn = String(parts[1])
        }
        bytes = Array(bytes[(newline + 1)...])
    }
    // Half of the inputs go through format "auto" (chosen by the name), half through "csv".
    if size & 1 == 1 { config.format = .csv }
    let source = config.format == .csv ? "fuzz-input" : "fuzz-input.CSV"
    var result: LabelledTexts?
    expectOnlyTextModelErrors("CSV parse") { result = try LabelledTexts.parse(bytes, source: source, config: config) }
    guard let r = result else { return 0 }
    require(r.texts.count == r.labels.count, "texts/labels count mismatch")
    require(r.skippedEmptyText >= 0 && r.skippedMissingLabel >= 0, "negative skip counts")
    for (text, label) in zip(r.texts, r.labels) {
        require(!label.isEmpty, "an empty label was kept")
        require(text.contains(where: { !$0.isWhitespace }), "a blank text was kept")
    }
    return 0
}

/// Entry point SwiftPM links as main() (see FuzzSupport.runLibFuzzer).
@_cdecl("FuzzCSV_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzz)
}
