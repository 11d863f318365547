#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a file a chunk at a time for a parser that takes what it can.
///
/// Why: a training file read whole sat in memory beside the texts parsed from it (a
/// 108 MB CSV plus its million texts was the run's peak). Here only one chunk of bytes
/// is held while the texts accumulate.
enum ChunkedFile {
    /// The most a single record may span: a chunk grows to hold one, up to this.
    static let maxRecordBytes = 256 << 20

    /// Calls `parse(bytes, first, last)` with the file's bytes from where the last call
    /// stopped: `first` when they start at the file's start, `last` when they run to its
    /// end. `parse` returns how many bytes it took (complete records); the rest is
    /// offered again with more after it. When `last`, it must take everything.
    static func forEachChunk(_ path: String, chunkBytes: Int = 8 << 20,
                     _ parse: (UnsafeBufferPointer<UInt8>, _ first: Bool, _ last: Bool) throws -> Int) throws {
        if FileIO.isDirectory(path) { throw TextModelError.io("\(path) is a directory, not a file") }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw TextModelError.io("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: max(chunkBytes, 1))
        var filled = 0, offset = 0, atEnd = false
        while true {
            while filled < buffer.count && !atEnd {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw TextModelError.io("cannot read \(path): \(String(cString: strerror(errno)))")
                }
                if n == 0 { atEnd = true }
                filled += n
            }
            let taken = try buffer.withUnsafeBufferPointer { all in
                try parse(UnsafeBufferPointer(rebasing: all[0..<filled]), offset == 0, atEnd)
            }
            if atEnd { return }
            if taken == 0 && filled == buffer.count {
                // One record fills the chunk: make room for the rest of it.
                guard buffer.count < maxRecordBytes else {
                    throw TextModelError.data("\(path): a record (line) starting at byte \(offset) is longer than \(maxRecordBytes >> 20) MiB")
                }
                buffer.append(contentsOf: repeatElement(0, count: min(buffer.count, maxRecordBytes - buffer.count)))
            } else {
                buffer.withUnsafeMutableBufferPointer { b in
                    _ = UnsafeMutableBufferPointer(rebasing: b[0..<(filled - taken)]).update(fromContentsOf: b[taken..<filled])
                }
                filled -= taken
                offset += taken
            }
        }
    }
}
