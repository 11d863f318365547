#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// File access without Foundation: whole-file reads and crash-safe replacement.
enum FileIO {
    private static func errnoText() -> String { String(cString: strerror(errno)) }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// True for a regular file (one that can be read again from its start, unlike a pipe or a device).
    static func isRegularFile(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }

    /// The size of a regular file; 0 for anything else (a pipe, a device, nothing).
    static func regularFileSize(_ path: String) -> Int {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return 0 }
        return Int(max(st.st_size, 0))
    }

    /// True if something (a file, a directory, ...) exists at `path`.
    static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    /// Largest file `readAll` takes when the caller has no config to tie the limit to
    /// (model files): the default training.max_memory_mb, 8192 MB.
    static let defaultReadLimit = 8192 * 1_048_576

    /// Opens `path` to read it: the descriptor (the caller closes it), whether it is a
    /// regular file, and its size (0 for a pipe or device). A directory, a file that
    /// cannot be opened, and a regular file larger than `limit` are errors.
    static func openForReading(_ path: String, limit: Int, limitName: String) throws -> (fd: Int32, regular: Bool, size: Int) {
        if isDirectory(path) { throw TextModelError.io("\(path) is a directory, not a file") }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw TextModelError.io("cannot open \(path): \(errnoText())") }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let reason = errnoText()
            close(fd)
            throw TextModelError.io("cannot stat \(path): \(reason)")
        }
        let regular = (st.st_mode & S_IFMT) == S_IFREG
        let size = regular ? Int(max(st.st_size, 0)) : 0
        if size > limit {
            close(fd)
            throw tooLarge(path, size: size, limit: limit, limitName: limitName)
        }
        return (fd, regular, size)
    }

    /// Reads a whole file of at most `limit` bytes; `limitName` names the setting behind
    /// the limit in the message. A regular file larger than the limit is refused before
    /// anything is read (a huge or sparse file would otherwise be pulled into memory);
    /// a pipe or device, whose size is unknown, is read until it ends or passes the limit
    /// (/dev/zero never ends). Memory is taken with malloc/realloc, whose failure is a
    /// TM_ERR_RESOURCE, not a Swift allocation trap.
    static func readAll(_ path: String, limit: Int = defaultReadLimit,
                        limitName: String = "the 8192 MB file size limit") throws -> [UInt8] {
        let (fd, regular, known) = try openForReading(path, limit: limit, limitName: limitName)
        defer { close(fd) }
        // One byte more than the known size, so a file that grew is noticed without a
        // second pass; streams start at 1 MB and double.
        var capacity = regular ? known + 1 : 1 << 20
        guard var buffer = malloc(capacity)?.assumingMemoryBound(to: UInt8.self) else {
            throw outOfMemory(path, needing: capacity)
        }
        defer { free(buffer) }
        var count = 0
        while true {
            if count == capacity {
                guard count <= limit else { break }
                let grown = min(capacity * 2, limit + 1)
                guard let raw = realloc(buffer, grown) else { throw outOfMemory(path, needing: grown) }
                buffer = raw.assumingMemoryBound(to: UInt8.self)
                capacity = grown
            }
            let n = read(fd, buffer + count, capacity - count)
            if n < 0 {
                if errno == EINTR { continue }
                throw TextModelError.io("cannot read \(path): \(errnoText())")
            }
            if n == 0 { break }
            count += n
        }
        if count > limit { throw endless(path, limit: limit, limitName: limitName, regular: regular) }
        // The array needs as much again; ask malloc first so that a failure is an error.
        guard let probe = malloc(max(count, 1)) else { throw outOfMemory(path, needing: count) }
        free(probe)
        return Array(UnsafeBufferPointer(start: buffer, count: count))
    }

    static func megabytes(_ bytes: Int) -> Int { (bytes + 1_048_575) / 1_048_576 }

    static func outOfMemory(_ path: String, needing bytes: Int) -> TextModelError {
        .resource("out of memory reading \(path): \(megabytes(bytes)) MB could not be allocated")
    }

    /// A regular file over a read limit (refused before reading).
    static func tooLarge(_ path: String, size: Int, limit: Int, limitName: String) -> TextModelError {
        .resource("\(path) is \(megabytes(size)) MB, more than \(limitName) (\(megabytes(limit)) MB) allows")
    }

    /// A file that gave more than a read limit: a pipe or device, or a file that grew.
    static func endless(_ path: String, limit: Int, limitName: String, regular: Bool) -> TextModelError {
        .resource("\(path) gave more than \(megabytes(limit)) MB without ending (\(limitName)); \(regular ? "it grew while being read" : "it is a pipe or device, not a regular file")")
    }

    /// A piece of a file to write: bytes of its own, or memory it borrows.
    enum Part {
        case owned([UInt8])
        case borrowed(UnsafeRawBufferPointer)

        var count: Int {
            switch self {
            case .owned(let bytes): return bytes.count
            case .borrowed(let buffer): return buffer.count
            }
        }

        func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
            switch self {
            case .owned(let bytes): return try bytes.withUnsafeBytes(body)
            case .borrowed(let buffer): return try body(buffer)
            }
        }
    }

    static func writeAtomically(_ path: String, parts: [[UInt8]]) throws {
        try writeAtomically(path, parts: parts.map(Part.owned))
    }

    /// Replaces `path` with `parts` atomically: write a temporary file in the same
    /// directory, fsync it, rename it over `path`, fsync the directory. Whatever happens,
    /// `path` holds either its old content or the complete new content.
    static func writeAtomically(_ path: String, parts: [Part]) throws {
        if path.isEmpty { throw TextModelError.invalidArgument("the path is empty") }
        if isDirectory(path) { throw TextModelError.io("\(path) is a directory; give a file name to save to") }
        // Renaming over a file needs only the directory's permission; the file's own
        // (read-only, another user's) would be ignored. Honour it as writing in place would.
        if exists(path) && faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) != 0 {
            throw TextModelError.io("cannot save over \(path): \(errnoText())")
        }
        let directory: String
        if let slash = path.lastIndex(of: "/") {
            directory = slash == path.startIndex ? "/" : String(path[..<slash])
        } else {
            directory = "."
        }
        // A short hidden name in the same directory (so rename is atomic and a target
        // name near the 255-byte limit still leaves room).
        var rng = SystemRandomNumberGenerator()
        let temp = "\(directory)/.tm-save-\(getpid())-\(String(rng.next() & 0xFFFF_FFFF, radix: 16)).tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd < 0 { throw TextModelError.io("cannot save to \(path): cannot create a temporary file in its directory (\(temp)): \(errnoText())") }
        var ok = false
        defer {
            if !ok { unlink(temp) }
        }
        do {
            defer { close(fd) }
            for part in parts {
                try part.withUnsafeBytes { buffer in
                    var offset = 0
                    while offset < buffer.count {
                        let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                        if n < 0 {
                            if errno == EINTR { continue }
                            throw TextModelError.io("cannot write \(temp): \(errnoText())")
                        }
                        offset += n
                    }
                }
            }
            if fsync(fd) != 0 { throw TextModelError.io("cannot flush \(temp) to disk: \(errnoText())") }
        }
        if rename(temp, path) != 0 { throw TextModelError.io("cannot rename \(temp) to \(path): \(errnoText())") }
        ok = true
        let dirFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            _ = fsync(dirFD)
            close(dirFD)
        }
    }
}
