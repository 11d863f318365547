/// The safetensors container both the model file and the training checkpoint use:
/// an 8-byte little-endian header length, a JSON header (tensor name → dtype, shape,
/// byte offsets into the data; plus string-valued `__metadata__`), padded with spaces
/// to a multiple of 8 bytes, then the raw little-endian tensor bytes.
enum SafeTensors {
    struct Tensor {
        let name: String
        let dtype: String      // "F32" or "I32"
        let shape: [Int]
        let bytes: [UInt8]
    }

    /// The file's parts in order (length, header, then each tensor's bytes), for
    /// FileIO.writeAtomically; tensors are laid out back to back in the given order.
    static func encode(metadata: [(String, JSONValue)], tensors: [Tensor]) -> [[UInt8]] {
        var header: [(String, JSONValue)] = [("__metadata__", .object(metadata))]
        var offset = 0
        for t in tensors {
            header.append((t.name, .object([
                ("dtype", .string(t.dtype)),
                ("shape", .array(t.shape.map { .int(Int64($0)) })),
                ("data_offsets", .array([.int(Int64(offset)), .int(Int64(offset + t.bytes.count))])),
            ])))
            offset += t.bytes.count
        }
        var headerBytes = Array(JSONValue.object(header).serialized.utf8)
        while (8 + headerBytes.count) % 8 != 0 { headerBytes.append(0x20) }
        var prefix = [UInt8](repeating: 0, count: 8)
        var length = UInt64(headerBytes.count)
        for i in 0..<8 { prefix[i] = UInt8(length & 0xFF); length >>= 8 }
        return [prefix, headerBytes] + tensors.map(\.bytes)
    }

    /// The parsed header of a file's bytes and where its data starts. Errors are plain
    /// reasons ("it is only 3 bytes long ..."), for the caller to wrap with the file name.
    static func header(of bytes: [UInt8], maxHeaderBytes: Int) -> Result<(header: JSONValue, dataStart: Int), Failure> {
        guard bytes.count >= 8 else { return .failure(Failure("it is only \(bytes.count) bytes long (truncated or empty)")) }
        var headerLength: UInt64 = 0
        for i in (0..<8).reversed() { headerLength = headerLength << 8 | UInt64(bytes[i]) }
        guard headerLength <= UInt64(bytes.count - 8), headerLength <= UInt64(maxHeaderBytes) else {
            return .failure(Failure("its header claims \(headerLength) bytes but the file has \(bytes.count - 8) after the length (truncated or corrupted)"))
        }
        let dataStart = 8 + Int(headerLength)
        var headerBytes = Array(bytes[8..<dataStart])
        do {
            return .success((try JSONValue.parse(bytes: &headerBytes, what: "the header"), dataStart))
        } catch let e as TextModelError {
            return .failure(Failure(e.message))
        } catch {
            return .failure(Failure("its header cannot be read"))
        }
    }

    /// The bytes of tensor `name`, checked to have the expected dtype and element count.
    static func tensor(_ name: String, in header: JSONValue, bytes: [UInt8], dataStart: Int,
                       dtype: String, count: Int) -> ArraySlice<UInt8>? {
        guard let entry = header[name], entry["dtype"]?.stringValue == dtype,
              let offsets = entry["data_offsets"]?.arrayValue, offsets.count == 2,
              let begin = offsets[0].doubleValue, let end = offsets[1].doubleValue,
              begin >= 0, end - begin == Double(count * 4),
              Double(dataStart) + end <= Double(bytes.count) else { return nil }
        return bytes[(dataStart + Int(begin))..<(dataStart + Int(end))]
    }

    struct Failure: Error {
        let reason: String
        init(_ reason: String) { self.reason = reason }
    }
}

extension Array where Element == UInt8 {
    /// The raw bytes of `count` values starting at `pointer` (little-endian on every
    /// platform Swift on Linux runs on).
    init<T>(rawBytesOf pointer: UnsafePointer<T>, count: Int) {
        self = Array(UnsafeRawBufferPointer(start: UnsafeRawPointer(pointer), count: count * MemoryLayout<T>.stride))
    }
}
