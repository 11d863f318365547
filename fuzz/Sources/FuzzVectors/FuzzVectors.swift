// Fuzz target: the pretrained-vectors reader (PretrainedVectors.parse: fastText .vec /
// GloVe text, an optional "count dim" header, then a word and dim numbers per line).
// The first input byte picks the dimension (1...8); the rest is the file.
import TextModel
import FuzzSupport

private let words = ["the", "a", "pizza", "goal", "laptop", "café", "🍕", "<unk>"]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var cursor = ByteCursor(fuzzInput(data, size))
    let dim = Int(cursor.byte() % 8) + 1
    let bytes = cursor.rest
    var result: (found: Int, table: [Float])?
    expectOnlyTextModelErrors("pretrained vectors (dim \(dim))") {
        result = try FuzzingEntryPoints.pretrainedVectors(bytes, words: words, dim: dim)
    }
    guard let (found, table) = result else { return 0 }
    require(table.count % dim == 0, "table of \(table.count) floats for dim \(dim)")
    require(found >= 0 && found <= table.count / dim, "\(found) words found of \(table.count / dim)")
    require(table.allSatisfy { $0.isFinite }, "a non-finite number was stored")
    return 0
}

/// Entry point SwiftPM links as main() (see FuzzSupport.runLibFuzzer).
@_cdecl("FuzzVectors_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzz)
}
