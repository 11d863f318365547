// Fuzz target: the training-checkpoint loader (TrainingCheckpoint.load: a safetensors
// file with metadata, a state JSON and tensors, checked against the run resuming it),
// loading into a fixed small run (FuzzingEntryPoints). The first input byte's low bit
// says whether that run has early stopping (a best-weights tensor); the rest is the file.
// Like FuzzModelFile, every input is tried as is and with checksum_metadata and
// checksum_data recomputed for its content, so mutations also reach the state JSON,
// the tensor table and the order check behind the CRC-32s.
//
// The seeds are valid checkpoints of that run, written by this binary:
//   FUZZ_WRITE_SEEDS=fuzz/corpus/FuzzCheckpoint .build-fuzz/release/FuzzCheckpoint
// (each seed starts with the selector byte).
import TextModel
import FuzzSupport
#if canImport(Glibc)
import Glibc
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var cursor = ByteCursor(fuzzInput(data, size))
    let earlyStopping = cursor.byte() & 1 == 1
    let bytes = cursor.rest
    tryLoad(bytes, earlyStopping: earlyStopping)
    if let repaired = repairChecksums(bytes, earlyStopping: earlyStopping), repaired != bytes {
        tryLoad(repaired, earlyStopping: earlyStopping)
    }
    return 0
}

private func tryLoad(_ bytes: [UInt8], earlyStopping: Bool) {
    var result: (epoch: Int, order: [Int])?
    expectOnlyTextModelErrors("checkpoint") {
        result = try FuzzingEntryPoints.loadCheckpoint(bytes, earlyStopping: earlyStopping)
    }
    guard let (epoch, order) = result else { return }
    // Epoch 0 is a valid state since training across processes: a continuation's
    // initial weights, before any epoch (tm_model_train_epochs with last_epoch 0).
    require(epoch >= 0, "resumes after epoch \(epoch)")
    require(order.sorted() == Array(0..<order.count), "the restored order is not a permutation: \(order)")
}

// MARK: checksum repair

/// The checkpoint with checksum_metadata (CRC-32 of the format name and the five
/// metadata values, each NUL-terminated) and checksum_data (CRC-32 of the tensors the
/// loader reads, in its order) recomputed, or nil when the header is not an object
/// with the fields and tensor entries they cover.
private func repairChecksums(_ bytes: [UInt8], earlyStopping: Bool) -> [UInt8]? {
    guard bytes.count >= 8 else { return nil }
    var length: UInt64 = 0
    for i in (0..<8).reversed() { length = length << 8 | UInt64(bytes[i]) }
    guard length <= UInt64(bytes.count - 8) else { return nil }
    let dataStart = 8 + Int(length)
    guard let header = try? JSONValue.parse(String(decoding: bytes[8..<dataStart], as: UTF8.self), what: "header"),
          var entries = header.objectValue,
          let metaIndex = entries.lastIndex(where: { $0.0 == "__metadata__" }),
          var meta = entries[metaIndex].1.objectValue else { return nil }
    var covered = Array("libtextmodel-checkpoint".utf8) + [0]
    for key in ["format_version", "library_version", "config", "data", "state"] {
        guard let value = meta.last(where: { $0.0 == key })?.1.stringValue else { return nil }
        covered += Array(value.utf8) + [0]
    }
    var tensors = [UInt8]()
    for name in ["parameters", "optimizer.m", "optimizer.v", "order"] + (earlyStopping ? ["early_stopping.best"] : []) {
        guard let offsets = entries.last(where: { $0.0 == name })?.1["data_offsets"]?.arrayValue,
              offsets.count == 2, let a = offsets[0].doubleValue, let b = offsets[1].doubleValue,
              a >= 0, a <= b, b <= Double(bytes.count - dataStart) else { return nil }
        tensors += bytes[(dataStart + Int(a))..<(dataStart + Int(b))]
    }
    setField(&meta, "checksum_metadata", crc32Hex(covered))
    setField(&meta, "checksum_data", crc32Hex(tensors))
    entries[metaIndex].1 = .object(meta)
    var headerBytes = Array(JSONValue.object(entries).serialized.utf8)
    while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
    var out = [UInt8]()
    var n = UInt64(headerBytes.count)
    for _ in 0..<8 { out.append(UInt8(n & 0xFF)); n >>= 8 }
    return out + headerBytes + bytes[dataStart...]
}


/// Writes the seed corpus into `directory`: checkpoints after epochs 1 and 3, with and
/// without early stopping.
private func writeSeeds(_ directory: String) -> CInt {
    for (epoch, stopping) in [(1, false), (3, false), (1, true), (3, true)] {
        let name = "\(directory)/epoch\(epoch)\(stopping ? "-early-stopping" : "").seed"
        do {
            let temp = name + ".ckpt"
            try FuzzingEntryPoints.writeCheckpointSeed(to: temp, epoch: epoch, earlyStopping: stopping)
            guard let input = fopen(temp, "rb"), let output = fopen(name, "wb") else { return 1 }
            fputc(stopping ? 1 : 0, output)
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = fread(&buffer, 1, buffer.count, input)
                if n == 0 { break }
                fwrite(buffer, 1, n, output)
            }
            fclose(input)
            fclose(output)
            unlink(temp)
        } catch {
            fputs("cannot write \(name): \(error)\n", stderr)
            return 1
        }
    }
    return 0
}

/// Entry point SwiftPM links as main() (see FuzzSupport.runLibFuzzer).
@_cdecl("FuzzCheckpoint_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    if let directory = getenv("FUZZ_WRITE_SEEDS") { return writeSeeds(String(cString: directory)) }
    return runLibFuzzer(argc, argv, fuzz)
}
