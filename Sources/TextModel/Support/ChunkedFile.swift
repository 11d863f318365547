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
    ///
    /// At most `limit` bytes are read, as FileIO.readAll does (`limitName` names the
    /// setting): a larger regular file is refused unread, a pipe or device (/dev/zero)
    /// is read until it passes the limit. The buffer comes from malloc, so running out
    /// of memory is a TM_ERR_RESOURCE, not a trap.
    static func forEachChunk(_ path: String, chunkBytes: Int = 8 << 20, limit: Int = FileIO.defaultReadLimit,
                             limitName: String = "the 8192 MB file size limit",
                             _ parse: (UnsafeBufferPointer<UInt8>, _ first: Bool, _ last: Bool) throws -> Int) throws {
        let (fd, regular, size) = try FileIO.openForReading(path, limit: limit, limitName: limitName)
        defer { close(fd) }
        var capacity = max(1, regular ? min(chunkBytes, size + 1) : chunkBytes)
        guard var buffer = malloc(capacity)?.assumingMemoryBound(to: UInt8.self) else {
            throw FileIO.outOfMemory(path, needing: capacity)
        }
        defer { free(buffer) }
        var filled = 0, offset = 0, total = 0, atEnd = false
        while true {
            while filled < capacity && !atEnd {
                let n = read(fd, buffer + filled, capacity - filled)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw TextModelError.io("cannot read \(path): \(String(cString: strerror(errno)))")
                }
                if n == 0 { atEnd = true }
                filled += n
                total += n
                if total > limit { throw FileIO.endless(path, limit: limit, limitName: limitName, regular: regular) }
            }
            let taken = try parse(UnsafeBufferPointer(start: buffer, count: filled), offset == 0, atEnd)
            if atEnd { return }
            if taken == 0 && filled == capacity {
                // One record fills the chunk: make room for the rest of it.
                guard capacity < maxRecordBytes else {
                    throw TextModelError.resource("\(path): the record (line) at byte \(offset) is longer than \(maxRecordBytes >> 20) MiB, the longest a data file may hold")
                }
                let grown = min(capacity * 2, maxRecordBytes)
                guard let raw = realloc(buffer, grown) else { throw FileIO.outOfMemory(path, needing: grown) }
                buffer = raw.assumingMemoryBound(to: UInt8.self)
                capacity = grown
            } else {
                (buffer).update(from: buffer + taken, count: filled - taken)
                filled -= taken
                offset += taken
            }
        }
    }
}
