// Helpers shared by the libtextmodel fuzz targets.
//
// The rule every target follows: a thrown TextModelError is a normal outcome (the
// library refused bad input and said why). Anything else — another error type, a
// TextModelError of kind .internal, a broken invariant, a trap, an ASan report, a
// timeout — is a finding. Findings call fatalError, which traps, and libFuzzer saves
// the input as crash-<sha1>.
import CFuzzerDriver
import TextModel
#if canImport(Glibc)
import Glibc
#endif

/// The fuzz input as an array (an empty array for size 0).
@inline(__always)
public func fuzzInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data = data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}

/// FUZZ_VERBOSE=1 prints every refusal (useful when replaying one input).
private let verbose = environmentFlag("FUZZ_VERBOSE")

/// Runs `body`; a TextModelError (other than .internal) is an expected refusal.
/// Returns true when `body` finished without throwing.
@discardableResult
public func expectOnlyTextModelErrors(_ what: String, _ body: () throws -> Void) -> Bool {
    do {
        try body()
        return true
    } catch let error as TextModelError {
        if error.kind == .internal { fatalError("\(what): internal error: \(error.message)") }
        if verbose { print("\(what): \(error.kind): \(error.message.prefix(400))") }
        return false
    } catch {
        fatalError("\(what): unexpected error type \(type(of: error)): \(error)")
    }
}

/// Traps with `message` when `condition` is false.
@inline(__always)
public func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fatalError("invariant violated: \(message())") }
}

/// Reads an optional switch from the environment (for stricter, opt-in checks).
public func environmentFlag(_ name: String) -> Bool {
    guard let raw = getenv(name) else { return false }
    let value = String(cString: raw)
    return !value.isEmpty && value != "0"
}

/// A fuzzer-controlled cursor: small integers taken from the front of the input.
public struct ByteCursor {
    public private(set) var bytes: ArraySlice<UInt8>
    public init(_ bytes: [UInt8]) { self.bytes = bytes[...] }
    public mutating func byte() -> UInt8 {
        guard let b = bytes.first else { return 0 }
        bytes = bytes.dropFirst()
        return b
    }
    public var rest: [UInt8] { Array(bytes) }
}


/// Runs libFuzzer with `test` as LLVMFuzzerTestOneInput. SwiftPM links executables with
/// `--defsym main=<Module>_main`, and `-parse-as-library` (needed so the target has no
/// top-level code of its own) leaves that symbol undefined; each target therefore
/// defines `@_cdecl("<Module>_main")` and calls this, which is what libFuzzer's own
/// main() does.
public func runLibFuzzer(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                         _ test: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt {
    if getenv("SWIFT_BACKTRACE") == nil {
        fputs("note: set SWIFT_BACKTRACE=enable=no (run.sh does): Swift's crash backtracer misreports and can hang under ASan\n", stderr)
    }
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments, test)
}

// MARK: rewriting a damaged file so it passes its checksums

/// Sets every member named `key` (json-c keeps the last of duplicates) or adds one.
public func setField(_ members: inout [(String, JSONValue)], _ key: String, _ value: String) {
    var found = false
    for i in members.indices where members[i].0 == key {
        members[i].1 = .string(value)
        found = true
    }
    if !found { members.append((key, .string(value))) }
}

private let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
    var c = UInt32(n)
    for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    return c
}

/// CRC-32 (zlib polynomial) as eight lower-case hex digits, as the model file and the
/// checkpoint store it. Computed here, not by the library, so a repaired input does not
/// depend on the code under test.
public func crc32Hex<C: Sequence>(_ bytes: C) -> String where C.Element == UInt8 {
    var crc: UInt32 = 0xFFFF_FFFF
    for b in bytes { crc = crcTable[Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8) }
    let s = String(~crc, radix: 16)
    return String(repeating: "0", count: 8 - s.count) + s
}
