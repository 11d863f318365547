#if canImport(Glibc)
import Glibc
#endif
import TextModel

/// Writing to stdout and stderr, printf-style number formatting and indented JSON,
/// without Foundation.
enum Output {
    static func out(_ text: String) { fputs(text, stdout) }
    static func error(_ text: String) { fputs(text, stderr) }

    /// True when stderr is a terminal (the progress bar is drawn only there).
    static var stderrIsTerminal: Bool { isatty(2) != 0 }

    /// `printf`-style formatting of numbers ("%.4f", "%5d").
    static func format(_ format: String, _ arguments: CVarArg...) -> String {
        withVaList(arguments) { list in
            var buffer = [CChar](repeating: 0, count: 256)
            let n = buffer.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress, 256, format, list) }
            if n >= 256 {
                return withVaList(arguments) { again in
                    var big = [CChar](repeating: 0, count: Int(n) + 1)
                    _ = big.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress, Int(n) + 1, format, again) }
                    return String(cString: big)
                }
            }
            return String(cString: buffer)
        }
    }

    /// A number with `digits` decimals, or "n/a" when it is missing or not finite.
    static func fixed(_ value: Double?, _ digits: Int = 4) -> String {
        guard let v = value, v.isFinite else { return "n/a" }
        return format("%.\(digits)f", v)
    }

    /// A duration as m:ss or h:mm:ss.
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0, seconds < 1e9 else { return "?" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? format("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : format("%d:%02d", s / 60, s % 60)
    }

    /// JSON with two-space indentation, members one per line (arrays of numbers stay on
    /// one line, so a confusion matrix reads as a matrix).
    static func prettyJSON(_ value: JSONValue, indent: String = "") -> String {
        let inner = indent + "  "
        switch value {
        case .object(let members):
            if members.isEmpty { return "{}" }
            let lines = members.map { inner + JSONValue.string($0.0).serialized + ": " + prettyJSON($0.1, indent: inner) }
            return "{\n" + lines.joined(separator: ",\n") + "\n" + indent + "}"
        case .array(let items):
            if items.allSatisfy({ if case .object = $0 { return false }; if case .array = $0 { return false }; return true }) {
                return value.serialized
            }
            return "[\n" + items.map { inner + prettyJSON($0, indent: inner) }.joined(separator: ",\n") + "\n" + indent + "]"
        default:
            return value.serialized
        }
    }
}
