/// Line-oriented file formats (fastText lines, JSON Lines, word vectors) all walk the
/// bytes the same way: skip a UTF-8 byte-order mark, split on LF, drop a CR before it.
enum Lines {
    /// Calls `body` with each line (without its line end) and its 1-based number.
    static func forEach(in bytes: [UInt8], _ body: (ArraySlice<UInt8>, Int) throws -> Void) rethrows {
        var number = 0
        var start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        while start < bytes.count {
            number += 1
            var end = start
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            var lineEnd = end
            if lineEnd > start && bytes[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            try body(bytes[start..<lineEnd], number)
            start = end + 1
        }
    }
}
