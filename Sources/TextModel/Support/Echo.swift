/// A caller's string (a key, a value, a label, a column name) as an error message
/// quotes it: control characters written as \u{…} escapes (a NUL would end the C
/// message; a newline would break a log line), and anything past `maxBytes` bytes of
/// UTF-8 cut at a character boundary and replaced by "…". A 1 MB unknown key thus
/// costs its message about 64 bytes, not 1 MB.
func echo(_ s: String, maxBytes: Int = 64) -> String {
    var out = ""
    var bytes = 0
    for c in s {
        var piece = ""
        for scalar in c.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F {
                piece += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else {
                piece.unicodeScalars.append(scalar)
            }
        }
        let size = piece.utf8.count
        if bytes + size > maxBytes { return out + "…" }
        out += piece
        bytes += size
    }
    return out
}
