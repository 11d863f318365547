/// A training run's state at the end of an epoch, written to training.checkpoint_path
/// after every epoch so that a run stopped for any reason (cancelled, killed, out of
/// time) continues with training.resume exactly as if it had never stopped: the
/// weights, the optimizer's state and step count, the random generator, the example
/// order, the early-stopping record and the report so far.
///
/// The file is a safetensors file (see SafeTensors) with tensors `parameters`,
/// `optimizer.<name>` (e.g. Adam's `m` and `v`), `order` (I32) and, with early
/// stopping, `early_stopping.best`; its metadata holds
///
///   format            "libtextmodel-checkpoint"
///   format_version    "1"
///   library_version   the writer's version
///   config            the run's config minus the keys a resume may change
///                     (Config.checkpointIdentity)
///   data              CRC-32 of the encoded training examples and targets
///   state             JSON: epoch, step, examples seen, seconds, random state,
///                     optimizer steps, early-stopping record, per-epoch report
///   checksum_metadata CRC-32 of the values above; checksum_data of all tensor bytes
struct TrainingCheckpoint {
    static let formatName = "libtextmodel-checkpoint"
    static let formatVersion = 1

    var epoch: Int
    var step: Int
    var examplesSeen: Int
    var seconds: Double
    var rng: SeededGenerator
    var earlyStopping: EarlyStopping.State?
    var epochs: [TrainingReport.Epoch]

    /// What identifies the run a checkpoint belongs to.
    struct Identity {
        let config: String
        let data: UInt32
    }

    /// Writes the checkpoint atomically (temporary file, fsync, rename).
    func save(to path: String, identity: Identity, parameters: FloatBuffer, count: Int, order: [Int32],
              optimizer: Optimizer, best: FloatBuffer?) throws {
        try FileIO.writeAtomically(path, parts: parts(identity: identity, parameters: parameters, count: count, order: order,
                                                      optimizer: optimizer, best: best))
    }

    /// The checkpoint file's bytes in memory (a TrainingContinuation's state).
    func encoded(identity: Identity, parameters: FloatBuffer, count: Int, order: [Int32],
                 optimizer: Optimizer, best: FloatBuffer?) -> [UInt8] {
        var bytes = [UInt8]()
        for part in parts(identity: identity, parameters: parameters, count: count, order: order, optimizer: optimizer, best: best) {
            part.withUnsafeBytes { bytes.append(contentsOf: $0) }
        }
        return bytes
    }

    private func parts(identity: Identity, parameters: FloatBuffer, count: Int, order: [Int32],
                       optimizer: Optimizer, best: FloatBuffer?) -> [FileIO.Part] {
        var tensors = [SafeTensors.Tensor(name: "parameters", dtype: "F32", shape: [count],
                                          bytes: .borrowed(UnsafeRawBufferPointer(start: parameters.pointer, count: 4 * count)))]
        for (name, buffer) in optimizer.stateBuffers {
            tensors.append(.init(name: "optimizer." + name, dtype: "F32", shape: [count],
                                 bytes: .borrowed(UnsafeRawBufferPointer(start: buffer.pointer, count: 4 * count))))
        }
        tensors.append(.init(name: "order", dtype: "I32", shape: [order.count],
                             bytes: order.withUnsafeBufferPointer { [UInt8](rawBytesOf: $0.baseAddress ?? UnsafePointer(bitPattern: 4)!, count: $0.count) }))
        if let best = best {
            tensors.append(.init(name: "early_stopping.best", dtype: "F32", shape: [count],
                                 bytes: .borrowed(UnsafeRawBufferPointer(start: best.pointer, count: 4 * count))))
        }
        let state = stateJSON(optimizerSteps: optimizer.stepCount).serialized
        let values = [String(TrainingCheckpoint.formatVersion), LibraryVersion.string, identity.config,
                      CRC32.hex(identity.data), state]
        let dataChecksum = tensors.reduce(UInt32(0)) { crc, t in t.bytes.withUnsafeBytes { CRC32.checksum($0, seed: crc) } }
        let metadata: [(String, JSONValue)] = [
            ("format_version", .string(values[0])),
            ("library_version", .string(values[1])),
            ("config", .string(values[2])),
            ("data", .string(values[3])),
            ("state", .string(values[4])),
            ("checksum_metadata", .string(CRC32.hex(TrainingCheckpoint.checksum(values)))),
            ("checksum_data", .string(CRC32.hex(dataChecksum))),
        ]
        return SafeTensors.encode(format: TrainingCheckpoint.formatName, metadata: metadata, tensors: tensors)
    }

    /// Reads a checkpoint of the run `identity` describes into the run's buffers:
    /// parameters, optimizer state, `order`, and the early-stopping best weights.
    /// Anything that does not match this run is an error that names the difference.
    /// `maxMemoryMB` (training.max_memory_mb) bounds the file: a checkpoint holds the
    /// weights and optimizer state the memory check already held to it.
    static func load(from path: String, identity: Identity, parameters: FloatBuffer, count: Int, order: inout [Int32],
                     optimizer: inout Optimizer, best: FloatBuffer?, maxMemoryMB: Int = 8192) throws -> TrainingCheckpoint {
        let bytes = try FileIO.readAll(path, limit: maxMemoryMB * 1_048_576, limitName: "training.max_memory_mb")
        return try load(bytes: bytes, source: path, identity: identity, parameters: parameters, count: count,
                        order: &order, optimizer: &optimizer, best: best)
    }

    /// The same from the bytes of a checkpoint file; `path` names it in messages.
    static func load(bytes: [UInt8], source path: String, identity: Identity, parameters: FloatBuffer, count: Int,
                     order: inout [Int32], optimizer: inout Optimizer, best: FloatBuffer?) throws -> TrainingCheckpoint {
        func bad(_ why: String) -> TextModelError {
            .modelFormat("\(path) is not a usable checkpoint of this training run: \(why)")
        }
        guard SafeTensors.hasMagic(bytes, format: formatName) else {
            throw bad("it does not start its header with \(String(decoding: SafeTensors.magic(format: formatName), as: UTF8.self)) (a checkpoint always does)")
        }
        let file = try SafeTensors.open(bytes, format: formatName, maxHeaderBytes: 1 << 30, bad: bad)
        let header = file.header, dataStart = file.dataStart, field = file.field
        let values = try ["format_version", "library_version", "config", "data", "state"].map(field)
        guard values[0] == String(formatVersion) else { throw bad("it has format version \(values[0]); this library reads \(formatVersion)") }
        guard try field("checksum_metadata") == CRC32.hex(checksum(values)) else { throw bad("the metadata checksum does not match (the file is corrupted)") }
        // Compared resolved, so that a checkpoint written before a key existed (0.3.0 had
        // no model.heads) matches a run that leaves the new key at its default. A stored
        // config this library cannot parse is compared as written (and differs).
        let stored = (try? Config(json: values[2]))?.checkpointIdentity.serialized ?? values[2]
        if stored != identity.config {
            throw TextModelError.config("\(path) was written by a run with another config (\(firstDifference(stored, identity.config))); only training.epochs, threads, progress_every, max_memory_mb, checkpoint_path and resume may change when resuming")
        }
        guard values[3] == CRC32.hex(identity.data) else {
            throw TextModelError.data("\(path) was written by a run on other training data (or another validation split): resume with the same data")
        }

        // Tensors, checked before anything is written into the run's buffers.
        var reads: [(ArraySlice<UInt8>, UnsafeMutableRawPointer)] = []
        var dataChecksum: UInt32 = 0
        func take(_ name: String, dtype: String = "F32", count n: Int, into destination: UnsafeMutableRawPointer) throws {
            guard let slice = SafeTensors.tensor(name, in: header, bytes: bytes, dataStart: dataStart, dtype: dtype, count: n) else {
                throw bad("tensor \(name) is missing or has the wrong type or size")
            }
            dataChecksum = slice.withUnsafeBytes { CRC32.checksum($0, seed: dataChecksum) }
            reads.append((slice, destination))
        }
        try take("parameters", count: count, into: parameters.pointer)
        for (name, buffer) in optimizer.stateBuffers { try take("optimizer." + name, count: count, into: buffer.pointer) }
        var order32 = [Int32](repeating: 0, count: order.count)
        try order32.withUnsafeMutableBytes { raw in
            try take("order", dtype: "I32", count: order.count, into: raw.baseAddress ?? UnsafeMutableRawPointer(bitPattern: 4)!)
            if let best = best { try take("early_stopping.best", count: count, into: best.pointer) }
            guard try field("checksum_data") == CRC32.hex(dataChecksum) else { throw bad("the data checksum does not match (the file is corrupted)") }
            for (slice, destination) in reads {
                slice.withUnsafeBytes { destination.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            }
        }
        guard Set(order32).count == order.count, order32.allSatisfy({ $0 >= 0 && Int($0) < order.count }) else {
            throw bad("its example order is not a permutation of the training examples")
        }
        order = order32

        guard let state = try? JSONValue.parse(values[4], what: "state"), let checkpoint = parse(state, optimizer: &optimizer) else {
            throw bad("its training state cannot be read")
        }
        return checkpoint
    }

    private static func checksum(_ values: [String]) -> UInt32 {
        var bytes = Array(formatName.utf8) + [0]
        for v in values { bytes += Array(v.utf8) + [0] }
        return CRC32.checksum(bytes)
    }

    /// The first key path at which two serialized configs differ, for the message.
    private static func firstDifference(_ a: String, _ b: String) -> String {
        guard let x = try? JSONValue.parse(a, what: "config"), let y = try? JSONValue.parse(b, what: "config") else { return "unreadable" }
        for (section, members) in y.objectValue ?? [] {
            for (key, value) in members.objectValue ?? [] where x[section]?[key]?.serialized != value.serialized {
                return "\(section).\(key) was \(x[section]?[key]?.serialized ?? "missing"), now \(value.serialized)"
            }
        }
        return "a key differs"
    }

    // MARK: state JSON

    /// Exact values (the random state, early stopping's best value) travel as hex bit
    /// patterns; report figures as plain numbers.
    private func stateJSON(optimizerSteps: Int) -> JSONValue {
        func hex(_ v: UInt64) -> JSONValue { .string(String(v, radix: 16)) }
        var items: [(String, JSONValue)] = [
            ("epoch", .int(Int64(epoch))),
            ("step", .int(Int64(step))),
            ("examples_seen", .int(Int64(examplesSeen))),
            ("seconds", .double(seconds)),
            ("rng", .array(rng.state.map(hex))),
            ("optimizer_steps", .int(Int64(optimizerSteps))),
            ("epochs", .array(epochs.map { e in
                .object([
                    ("epoch", .int(Int64(e.epoch))),
                    ("train_loss", .double(e.trainLoss)),
                    ("train_accuracy", e.trainAccuracy.map { .double($0) } ?? .null),
                    ("valid_loss", e.validLoss.map { .double($0) } ?? .null),
                    ("valid_accuracy", e.validAccuracy.map { .double($0) } ?? .null),
                    ("valid_macro_f1", e.validMacroF1.map { .double($0) } ?? .null),
                    ("seconds", .double(e.seconds)),
                ])
            })),
        ]
        if let s = earlyStopping {
            items.append(("early_stopping", .object([
                ("best_epoch", .int(Int64(s.bestEpoch))),
                ("best_value", hex(s.bestValue.bitPattern)),
                ("epochs_without_improvement", .int(Int64(s.epochsWithoutImprovement))),
            ])))
        }
        return .object(items)
    }

    private static func parse(_ state: JSONValue, optimizer: inout Optimizer) -> TrainingCheckpoint? {
        func int(_ v: JSONValue?) -> Int? { v?.doubleValue.flatMap { $0 >= 0 && $0 < 9e15 ? Int($0) : nil } }
        func hex(_ v: JSONValue?) -> UInt64? { v?.stringValue.flatMap { UInt64($0, radix: 16) } }
        guard let epoch = int(state["epoch"]), let step = int(state["step"]),
              let seen = int(state["examples_seen"]), let seconds = state["seconds"]?.doubleValue,
              let words = state["rng"]?.arrayValue?.compactMap(hex), let rng = SeededGenerator(state: words),
              let steps = int(state["optimizer_steps"]), let epochItems = state["epochs"]?.arrayValue else { return nil }
        var epochs = [TrainingReport.Epoch]()
        for e in epochItems {
            guard let n = int(e["epoch"]), let loss = e["train_loss"]?.doubleValue else { return nil }
            var report = TrainingReport.Epoch(epoch: n, trainLoss: loss, validLoss: e["valid_loss"]?.doubleValue,
                                              validAccuracy: e["valid_accuracy"]?.doubleValue,
                                              seconds: e["seconds"]?.doubleValue ?? 0)
            report.validMacroF1 = e["valid_macro_f1"]?.doubleValue
            // Absent from checkpoints of 0.2.0, which did not count it.
            report.trainAccuracy = e["train_accuracy"]?.doubleValue
            epochs.append(report)
        }
        var stopping: EarlyStopping.State? = nil
        if let s = state["early_stopping"] {
            guard let bestEpoch = int(s["best_epoch"]), let bits = hex(s["best_value"]),
                  let waited = int(s["epochs_without_improvement"]) else { return nil }
            stopping = EarlyStopping.State(bestEpoch: bestEpoch, bestValue: Double(bitPattern: bits), epochsWithoutImprovement: waited)
        }
        optimizer.stepCount = steps
        return TrainingCheckpoint(epoch: epoch, step: step, examplesSeen: seen, seconds: seconds, rng: rng,
                                  earlyStopping: stopping, epochs: epochs)
    }
}
