/// The safetensors container both the model file and the training checkpoint use:
/// an 8-byte little-endian header length, a JSON header (tensor name → dtype, shape,
/// byte offsets into the data; plus string-valued `__metadata__`), padded with spaces
/// to a multiple of 8 bytes, then the raw little-endian tensor bytes.
enum SafeTensors {
    struct Tensor {
        let name: String
        let dtype: String      // "F32" or "I32"
        let shape: [Int]
        let bytes: FileIO.Part

        init(name: String, dtype: String, shape: [Int], bytes: [UInt8]) {
            self.init(name: name, dtype: dtype, shape: shape, bytes: .owned(bytes))
        }

        /// `bytes` may borrow memory (the weights, written where they lie rather than
        /// copied: a copy would double the process's memory while saving a big model);
        /// it must stay valid until the write is done.
        init(name: String, dtype: String, shape: [Int], bytes: FileIO.Part) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
            self.bytes = bytes
        }
    }

    /// The file's parts in order (length, header, then each tensor's bytes), for
    /// FileIO.writeAtomically; tensors are laid out back to back in the given order.
    /// `format` is written as the first metadata entry, so the header starts with
    /// `magic(format:)`.
    static func encode(format: String, metadata: [(String, JSONValue)], tensors: [Tensor]) -> [FileIO.Part] {
        var header: [(String, JSONValue)] = [("__metadata__", .object([("format", .string(format))] + metadata))]
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
        return [.owned(prefix), .owned(headerBytes)] + tensors.map(\.bytes)
    }

    /// The bytes at offset 8 (the start of the JSON header) of every file `encode` writes
    /// for `format`: the metadata comes first, its format entry first, in compact JSON,
    /// so a reader tells its own files from any other by comparing bytes, before parsing
    /// anything. The closing quote and comma keep "libtextmodel" from matching
    /// "libtextmodel-checkpoint". Every libtextmodel release has written its files so.
    static func magic(format: String) -> [UInt8] {
        Array("{\"__metadata__\":{\"format\":".utf8) + Array(JSONValue.string(format).serialized.utf8) + [UInt8(ascii: ",")]
    }

    /// Whether `bytes` hold `magic(format:)` at offset 8.
    static func hasMagic(_ bytes: [UInt8], format: String) -> Bool {
        let magic = self.magic(format: format)
        return bytes.count >= 8 + magic.count && bytes[8..<(8 + magic.count)].elementsEqual(magic)
    }

    /// The parsed header of a file's bytes and where its data starts. Errors are plain
    /// reasons ("it is only 3 bytes long ..."), for the caller to wrap with the file name.
    private static func header(of bytes: [UInt8], maxHeaderBytes: Int) -> Result<(header: JSONValue, dataStart: Int), Failure> {
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

    /// A file of our own format, opened: its header, where the data starts, and the
    /// string fields of its `__metadata__`. Every complaint goes through `bad`, which
    /// names the file.
    struct File {
        let header: JSONValue
        let dataStart: Int
        private let metadata: [(String, JSONValue)]
        private let bad: (String) -> TextModelError

        /// The metadata string `key` (its last value if repeated), or an error naming it.
        func field(_ key: String) throws -> String {
            guard let value = optionalField(key) else { throw bad("the metadata has no \(key)") }
            return value
        }

        func optionalField(_ key: String) -> String? {
            guard let v = metadata.last(where: { $0.0 == key })?.1, case .string(let s) = v else { return nil }
            return s
        }

        fileprivate init(header: JSONValue, dataStart: Int, metadata: [(String, JSONValue)], bad: @escaping (String) -> TextModelError) {
            self.header = header
            self.dataStart = dataStart
            self.metadata = metadata
            self.bad = bad
        }
    }

    /// Parses `bytes` as a safetensors file whose metadata says `format` (the magic).
    static func open(_ bytes: [UInt8], format: String, maxHeaderBytes: Int,
                     bad: @escaping (String) -> TextModelError) throws -> File {
        let (header, dataStart): (JSONValue, Int)
        switch SafeTensors.header(of: bytes, maxHeaderBytes: maxHeaderBytes) {
        case .success(let parsed): (header, dataStart) = parsed
        case .failure(let failure): throw bad(failure.reason)
        }
        guard case .object(let metadata)? = header["__metadata__"] else { throw bad("the header has no __metadata__") }
        let file = File(header: header, dataStart: dataStart, metadata: metadata, bad: bad)
        guard file.optionalField("format") == format else { throw bad("its metadata does not say format \"\(format)\"") }
        return file
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
