/// One sequence of an attribution batch: text `text` with its input rows as the method
/// sets them (x: the rows' embeddings; r: the reference rows, see AttributionReference).
struct Probe {
    enum Fill {
        /// r + α (x − r) in every row: a point on the integrated-gradients path.
        case path(Float)
        /// The rows made of any token in the range set to r, the others to x: an occlusion.
        case occluded(Range<Int>)
    }
    let text: Int
    let fill: Fill
    /// Quadrature weight of a path point (unused otherwise).
    var weight = 0.0
}

/// Runs probes through a network in batches, from filled input embeddings.
///
/// Probes are packed as the texts of a PackedBatch: consecutive probes of the list
/// form a batch (at most `maxSequences` probes and `maxRows` rows, one text's probes
/// split only when they alone exceed that), so the list must hold each text's probes
/// together and the texts longest first. Each batch runs on one thread's workspace,
/// forward from `inputs`, and is then handed to the caller's `body`, which reads the
/// outputs or runs the backward pass. A batch's results depend only on its probes, so
/// neither the thread count nor the other texts change them.
struct ProbeRunner {
    let network: Network
    let params: UnsafePointer<Float>
    let texts: [TracedEncoding]
    let reference: AttributionReference

    static let maxSequences = 128
    static let maxRows = 4_096

    var dim: Int { network.input.dim }

    /// Row r of text `t` as the model embeds it: [E].
    func row(_ t: TracedEncoding, _ r: Int) -> UnsafePointer<Float> {
        params + network.input.table.offset + Int(t.ids[r]) * dim
    }

    /// Row r's reference, or nil for zeros.
    func referenceRow(_ t: TracedEncoding, _ r: Int) -> UnsafePointer<Float>? {
        guard reference == .unknown, r < t.words else { return nil }
        return params + network.input.table.offset + Int(Vocabulary.unknownID) * dim
    }

    /// The batches of `probes`, as ranges of it.
    func batches(_ probes: [Probe]) -> [Range<Int>] {
        var batches = [Range<Int>](), start = 0, rows = 0
        for (p, probe) in probes.enumerated() {
            let length = texts[probe.text].ids.count
            if p > start && (p - start >= ProbeRunner.maxSequences || rows + length > ProbeRunner.maxRows) {
                batches.append(start..<p)
                start = p
                rows = 0
            }
            rows += length
        }
        if start < probes.count { batches.append(start..<probes.count) }
        return batches
    }

    /// Runs every batch of `probes` on up to `threads` threads, with workspaces from
    /// `model`'s pool; `body(batch index, its probes, workspace)` runs after each
    /// forward pass, on that batch's thread. Throws TM_ERR_RESOURCE (before running
    /// anything) if one batch's activations exceed the model's training.max_memory_mb.
    ///
    /// With `ids` (one id sequence per probe, as long as its text's), the probes run
    /// from those ids instead, through the model's inference table when it has one:
    /// the ordinary prediction path (occlusion by `<unk>`).
    func run(_ probes: [Probe], model: TrainedModel, threads: Int, ids: [[Int32]]? = nil,
             body: (Int, Range<Int>, Workspace) -> Void) throws {
        let table = ids == nil ? nil : model.inputTable(tokens: probes.reduce(0) { $0 + texts[$1.text].ids.count }, threads: threads)
        try runBatches(probes, model: model, threads: threads, workerFloats: { $0.rows * dim }) { index, batch, ws, inputs in
            if let ids = ids {
                ws.batch.pack(batch.lazy.map { ids[$0][...] })
                network.forward(params, workspace: ws, inputTable: table)
            } else {
                ws.batch.pack(batch.lazy.map { texts[probes[$0].text].ids[...] })
                for (b, p) in batch.enumerated() { fill(probes[p], sequence: b, batch: ws.batch, into: inputs) }
                network.forward(params, workspace: ws, embeddings: inputs)
            }
            body(index, batch, ws)
        }
    }

    /// The batches of `probes` as `run` makes them, not yet packed nor run: `body(batch
    /// index, its probes, workspace, scratch)` packs the batch and runs the passes, with
    /// `workerFloats(largest batch shape)` floats of scratch of its own thread. Memory
    /// checks, threads and workspaces as `run`.
    func runBatches(_ probes: [Probe], model: TrainedModel, threads: Int, workerFloats: (BatchShape) -> Int,
                    body: (Int, Range<Int>, Workspace, UnsafeMutablePointer<Float>) -> Void) throws {
        let maxMemoryMB = model.config.training.maxMemoryMB
        let batches = batches(probes)
        guard !batches.isEmpty else { return }
        var shape = BatchShape.empty
        for batch in batches {
            let rows = batch.reduce(0) { $0 + texts[probes[$1].text].ids.count }
            shape = shape.union(BatchShape(rows: rows, texts: batch.count, longest: texts[probes[batch.lowerBound].text].ids.count))
        }
        let scratch = max(1, workerFloats(shape))
        let (scratchBytes, o1) = scratch.multipliedReportingOverflow(by: 4)
        let perWorker = network.activationBytes(shape).addingReportingOverflow(scratchBytes)
        let cap = maxMemoryMB * 1_048_576
        guard !o1, !perWorker.overflow, perWorker.partialValue <= cap else {
            throw TextModelError.resource("explaining needs about \(perWorker.partialValue / 1_048_576) MB of activations for a batch of \(shape.texts) sequences of up to \(shape.longest) tokens, more than the model's training.max_memory_mb = \(maxMemoryMB); explain shorter texts or use fewer steps")
        }
        let workers = max(1, min(Parallel.threads(threads), batches.count, cap / max(perWorker.partialValue, 1)))
        let buffers = try (0..<workers).map { _ in
            try FloatBuffer.allocate(count: scratch, what: "the input embeddings of an attribution batch")
        }
        try model.withWorkspaces(workers) { workspaces in
            for ws in workspaces {
                ws.training = false
                try ws.prepare(for: shape)
            }
            Parallel.forEach(batches.count, workers: workers) { index, w in
                body(index, batches[index], workspaces[w], buffers[w].pointer)
            }
        }
    }

    /// Writes probe `probe`'s rows, as packed sequence b of `batch`, into `inputs`.
    private func fill(_ probe: Probe, sequence b: Int, batch: PackedBatch, into inputs: UnsafeMutablePointer<Float>) {
        let t = texts[probe.text], e = dim
        for r in 0..<t.ids.count {
            let out = inputs + (batch.stepOffsets[r] + b) * e
            let x = row(t, r), reference = referenceRow(t, r)
            switch probe.fill {
            case .path(let alpha):
                if let ref = reference {
                    for j in 0..<e { out[j] = ref[j] + alpha * (x[j] - ref[j]) }
                } else {
                    for j in 0..<e { out[j] = alpha * x[j] }
                }
            case .occluded(let window):
                if t.sources[r].overlaps(window) {
                    if let ref = reference { out.update(from: ref, count: e) } else { out.update(repeating: 0, count: e) }
                } else {
                    out.update(from: x, count: e)
                }
            }
        }
    }

    /// Σⱼ (x − r)ⱼ · g[j] for row r of text `t`, in Double.
    func difference(_ t: TracedEncoding, _ r: Int, dot g: UnsafePointer<Float>) -> Double {
        let x = row(t, r), e = dim
        var sum = 0.0
        if let ref = referenceRow(t, r) {
            for j in 0..<e { sum += Double(x[j] - ref[j]) * Double(g[j]) }
        } else {
            for j in 0..<e { sum += Double(x[j]) * Double(g[j]) }
        }
        return sum
    }
}
