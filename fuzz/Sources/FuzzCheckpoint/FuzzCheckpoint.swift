// Fuzz target: the training-checkpoint loader (TrainingCheckpoint.load: a safetensors
// file with metadata, a state JSON and tensors, checked against the run resuming it),
// loading into a fixed small run (FuzzingEntryPoints). The first input byte's low bit
// says whether that run has early stopping (a best-weights tensor); the rest is the file.
//
// The seeds are valid checkpoints of that run, written by this binary:
//   FUZZ_WRITE_SEEDS=fuzz/corpus/FuzzCheckpoint .build-fuzz/release/FuzzCheckpoint
// (each seed starts with the selector byte).
@_spi(Fuzzing) import TextModel
import FuzzSupport
#if canImport(Glibc)
import Glibc
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var cursor = ByteCursor(fuzzInput(data, size))
    let earlyStopping = cursor.byte() & 1 == 1
    var result: (epoch: Int, order: [Int])?
    expectOnlyTextModelErrors("checkpoint") {
        result = try FuzzingEntryPoints.loadCheckpoint(cursor.rest, earlyStopping: earlyStopping)
    }
    guard let (epoch, order) = result else { return 0 }
    require(epoch >= 1, "resumes after epoch \(epoch)")
    require(order.sorted() == Array(0..<order.count), "the restored order is not a permutation: \(order)")
    return 0
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
