#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Texts of Int32 ids (an EncodedTexts' ids and offsets) kept in an unlinked temporary
/// file instead of in memory, read back one text at a time with `pread` (which threads
/// may call at once). Training from a file keeps its compact bag texts here
/// (CompactTexts, TrainingSet(config:file:)), and the other models their flat ids
/// (TrainingExamples.spilled, which DataParallelStep reads a batch at a time), so its
/// memory does not grow with the corpus's words; the kernel's page cache holds the file
/// while there is room, as it holds the corpus fastText reads again each epoch.
///
/// Layout: `count + 1` Int64 offsets (in ids), then the ids. The file is unlinked as soon
/// as it is made, so nothing else can open it and it goes when this object does.
/// A failed read or write never traps: writes throw; a read that fails returns no ids and
/// records the error (`failure`), which the trainer turns into TM_ERR_IO.
final class SpilledTexts {
    /// Texts the file is laid out for (all of them are appended before any is read).
    let count: Int
    private(set) var appended = 0
    private(set) var idCount = 0
    /// Ids of the text with the most (the read scratch's size).
    private(set) var longest = 0
    private let fd: Int32
    private let idsStart: Int
    private let failed = Atomic<Bool>(false)

    /// A temporary file in $TMPDIR (or /tmp) laid out for `count` texts.
    init(count: Int) throws {
        let dir = getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(dir)/textmodel-texts-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        if fd < 0 {
            throw TextModelError.io("cannot create a temporary file for the training texts in \(dir) (set TMPDIR to a writable directory): \(String(cString: strerror(errno)))")
        }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)   // not inherited by a process the caller starts
        self.fd = fd
        self.count = count
        idsStart = 8 * (count + 1)
        var zero: Int64 = 0
        try withUnsafeBytes(of: &zero) { try write($0, at: 0) }
    }

    deinit { close(fd) }

    /// The error of the first read that failed, if one did.
    var failure: String? {
        failed.load(ordering: .relaxed) ? "a read of the temporary file of the training texts failed" : nil
    }

    /// Writes `texts` after those appended already.
    func append(_ texts: EncodedTexts) throws {
        guard appended + texts.count <= count else {
            throw TextModelError(.internal, "\(appended + texts.count) texts appended to a temporary file laid out for \(count)")
        }
        try texts.withUnsafeStorage { ids, offsets in
            var shifted = [Int64](repeating: 0, count: texts.count)
            for i in 0..<texts.count {
                shifted[i] = Int64(idCount + offsets[i + 1])
                longest = max(longest, offsets[i + 1] - offsets[i])
            }
            try shifted.withUnsafeBytes { try write($0, at: 8 * (appended + 1)) }
            try write(UnsafeRawBufferPointer(ids), at: idsStart + 4 * idCount)
        }
        appended += texts.count
        idCount += texts.totalLength
    }

    /// Text e's ids into `out` (room for `longest`); how many, or nil (and `failure` set)
    /// if the file could not be read.
    func read(_ e: Int, into out: UnsafeMutablePointer<Int32>) -> Int? {
        var bounds: (Int64, Int64) = (0, 0)
        let ok = withUnsafeMutableBytes(of: &bounds) { read($0, at: 8 * e) }
        let n = Int(bounds.1 - bounds.0)
        guard ok, n >= 0, n <= longest,
              read(UnsafeMutableRawBufferPointer(start: out, count: 4 * n), at: idsStart + 4 * Int(bounds.0)) else {
            failed.store(true, ordering: .relaxed)
            return nil
        }
        return n
    }

    /// Text e's ids appended to `texts` (which must have room for them, to allocate
    /// nothing), read through `scratch` (room for `longest`); false (and `failure` set)
    /// if the file could not be read.
    func read(_ e: Int, appendingTo texts: inout EncodedTexts, scratch: UnsafeMutablePointer<Int32>) -> Bool {
        guard let n = read(e, into: scratch) else { return false }
        texts.append(UnsafeBufferPointer(start: scratch, count: n))
        return true
    }

    /// Every text, read back into memory: for a step that needs them all at once (DP-SGD).
    func readAll() throws -> EncodedTexts {
        var all = EncodedTexts()
        all.reserve(texts: count, ids: idCount)
        let scratch = UnsafeMutablePointer<Int32>.allocate(capacity: max(longest, 1))
        defer { scratch.deallocate() }
        for e in 0..<count where !read(e, appendingTo: &all, scratch: scratch) {
            throw TextModelError.io(failure ?? "a read of the temporary file of the training texts failed")
        }
        return all
    }

    /// Calls `body` with runs of whole texts' ids (about a million ids each, in text
    /// order) and writes back what it changed (BucketSizing's fold of hashed ids).
    func update(_ body: (UnsafeMutableBufferPointer<Int32>) -> Void) throws {
        let batch = 1 << 20
        var buffer = [Int32](), first = 0
        var bounds = [Int64](repeating: 0, count: count + 1 == 0 ? 1 : min(count + 1, 1 << 16))
        while first < count {
            // Offsets of texts first...last, then their ids, up to `batch` ids (at least one text).
            let texts = min(count - first, bounds.count - 1)
            guard bounds.withUnsafeMutableBytes({ read(UnsafeMutableRawBufferPointer(rebasing: $0[0..<(8 * (texts + 1))]), at: 8 * first) }) else {
                throw TextModelError.io("cannot read the temporary file of the training texts: \(String(cString: strerror(errno)))")
            }
            var last = 1
            while last < texts && bounds[last + 1] - bounds[0] <= batch { last += 1 }
            let n = Int(bounds[last] - bounds[0]), at = idsStart + 4 * Int(bounds[0])
            if buffer.count < n { buffer = [Int32](repeating: 0, count: n) }
            try buffer.withUnsafeMutableBufferPointer { ids in
                let run = UnsafeMutableBufferPointer(rebasing: ids[0..<n])
                guard read(UnsafeMutableRawBufferPointer(run), at: at) else {
                    throw TextModelError.io("cannot read the temporary file of the training texts: \(String(cString: strerror(errno)))")
                }
                body(run)
                try write(UnsafeRawBufferPointer(run), at: at)
            }
            first += last
        }
    }

    private func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw TextModelError.io("cannot write the temporary file of the training texts (set TMPDIR to a directory with room for ~4 bytes a training word): \(String(cString: strerror(errno)))")
            }
            done += n
        }
    }

    private func read(_ bytes: UnsafeMutableRawBufferPointer, at offset: Int) -> Bool {
        var done = 0
        while done < bytes.count {
            let n = pread(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            done += n
        }
        return true
    }
}
