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

    /// True if something (a file, a directory, ...) exists at `path`.
    static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    /// Reads a whole regular file.
    static func readAll(_ path: String) throws -> [UInt8] {
        if isDirectory(path) { throw TextModelError.io("\(path) is a directory, not a file") }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw TextModelError.io("cannot open \(path): \(errnoText())") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw TextModelError.io("cannot stat \(path): \(errnoText())") }
        var bytes = [UInt8]()
        bytes.reserveCapacity(Int(max(st.st_size, 0)))
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw TextModelError.io("cannot read \(path): \(errnoText())")
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return bytes
    }

    /// Replaces `path` with `parts` atomically: write a temporary file in the same
    /// directory, fsync it, rename it over `path`, fsync the directory. Whatever happens,
    /// `path` holds either its old content or the complete new content.
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

    static func writeAtomically(_ path: String, parts: [Part]) throws {
        if path.isEmpty { throw TextModelError.invalidArgument("the path is empty") }
        if isDirectory(path) { throw TextModelError.io("\(path) is a directory; give a file name to save to") }
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
        if fd < 0 { throw TextModelError.io("cannot create \(temp): \(errnoText())") }
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
