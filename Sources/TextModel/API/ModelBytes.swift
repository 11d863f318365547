#if canImport(Glibc)
import Glibc
#endif

/// A model as bytes in memory instead of a file: the same bytes `save(to:)` writes,
/// checked on the way back in exactly as `load(from:)` checks a file. What pickling,
/// caches and model registries build on.
extension Model {
    /// The model file's bytes in a buffer `allocate(byteCount)` provides; returns the
    /// buffer and its length. The caller owns the buffer (its allocator's free).
    /// Errors: `.state` (untrained), `.resource` (`allocate` returned nil).
    public func serialized(allocate: (Int) -> UnsafeMutableRawPointer?) throws -> (bytes: UnsafeMutableRawPointer, count: Int) {
        let model = try trainedModel()
        let (bytes, count) = try ModelFile.serialize(model, allocate: allocate)
        return (bytes, count)
    }

    /// The model file's bytes as an array.
    public func serialized() throws -> [UInt8] {
        let (bytes, count) = try serialized(allocate: { malloc($0) })
        defer { free(bytes) }
        return Array(UnsafeRawBufferPointer(start: bytes, count: count))
    }

    /// Loads a model from model-file bytes the caller keeps (they are copied first).
    /// `source` names the bytes in error messages.
    /// Errors: `.modelFormat` (not a model file, truncated, corrupted, newer format),
    /// `.resource` (more than the 8192 MB model file limit, or no memory for the copy).
    public static func load(copying bytes: UnsafeRawBufferPointer, source: String) throws -> Model {
        guard bytes.count <= FileIO.defaultReadLimit else {
            throw TextModelError.resource("\(source) holds \(FileIO.megabytes(bytes.count)) MB, more than the 8192 MB model file limit")
        }
        // The array's storage is allocated unchecked (a failure would trap): ask malloc first.
        guard let probe = malloc(max(bytes.count, 1)) else {
            throw TextModelError.resource("out of memory copying \(source): \(FileIO.megabytes(bytes.count)) MB could not be allocated")
        }
        free(probe)
        return try load(bytes: Array(bytes), source: source)
    }
}
