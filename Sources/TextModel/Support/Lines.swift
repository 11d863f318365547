/// Line-oriented file formats (fastText lines, JSON Lines, word vectors) all walk the
/// bytes the same way: skip a UTF-8 byte-order mark, split on LF, drop a CR before it.
enum Lines {
    typealias Line = Slice<UnsafeBufferPointer<UInt8>>

    /// Calls `body` with each line (without its line end) and its 1-based number.
    static func forEach(in bytes: [UInt8], _ body: (Line, Int) throws -> Void) rethrows {
        var number = 0
        _ = try bytes.withUnsafeBufferPointer { try forEach(in: $0, first: true, last: true, number: &number, body) }
    }

    /// The chunked form: calls `body` with each complete line of `chunk` (the bytes after
    /// what earlier calls consumed; `first` at the file's start, `last` at its end),
    /// numbering from `number`, and returns how many bytes those lines took. A line the
    /// chunk ends inside waits for the next call, unless `last`.
    static func forEach(in chunk: UnsafeBufferPointer<UInt8>, first: Bool, last: Bool, number: inout Int,
                        _ body: (Line, Int) throws -> Void) rethrows -> Int {
        var start = first && chunk.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        while start < chunk.count {
            var end = start
            while end < chunk.count && chunk[end] != 0x0A { end += 1 }
            if end == chunk.count && !last { return start }
            number += 1
            var lineEnd = end
            if lineEnd > start && chunk[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            try body(chunk[start..<lineEnd], number)
            start = end + 1
        }
        return chunk.count
    }
}
