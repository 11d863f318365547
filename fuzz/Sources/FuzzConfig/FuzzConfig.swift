// Fuzz target: Config(json:) — the strict JSON check (StrictJSON), json-c parsing,
// the JSON → JSONValue conversion and every config key's validation.
//
// Properties checked besides "no crash":
//  * a config that parses writes itself back (`json.serialized`) as text that parses
//    again to the same resolved config (a model saved with it must load);
//  * JSONValue.parse on the same text agrees with Config(json:) about JSON validity.
import FuzzSupport
import TextModel

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: fuzzInput(data, size), as: UTF8.self)

    // Any JSON document, object or not.
    var parsed: JSONValue?
    expectOnlyTextModelErrors("JSONValue.parse") { parsed = try JSONValue.parse(text, what: "fuzz input") }
    if let value = parsed {
        // The writer's output must be JSON the reader accepts again.
        let again = value.serialized
        var reparsed: JSONValue?
        expectOnlyTextModelErrors("JSONValue.parse(serialized)") { reparsed = try JSONValue.parse(again, what: "re-serialized") }
        require(reparsed != nil, "JSONValue.serialized produced text JSONValue.parse refuses: \(again.prefix(300))")
        if let r = reparsed {
            require(r.serialized == again, "serialize∘parse is not stable: \(again.prefix(200)) vs \(r.serialized.prefix(200))")
        }
    }

    // The config itself.
    var config: Config?
    expectOnlyTextModelErrors("Config(json:)") { config = try Config(json: text) }
    guard let c = config else { return 0 }
    let written = c.json.serialized
    var restored: Config?
    expectOnlyTextModelErrors("Config(json: resolved)") { restored = try Config(json: written) }
    guard let r = restored else {
        fatalError("the resolved config does not parse again: \(written)")
    }
    require(r.json.serialized == written, "config round trip changed it:\n\(written)\n\(r.json.serialized)")
    _ = Model(config: c)
    return 0
}

/// Entry point SwiftPM links as main() (see FuzzSupport.runLibFuzzer).
@_cdecl("FuzzConfig_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzz)
}
