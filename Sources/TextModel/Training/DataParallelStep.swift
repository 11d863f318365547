/// One optimizer step on one batch, split across threads.
///
/// The batch (texts sorted longest first) is dealt round-robin to `threads` workers; each
/// runs forward and backward on its share into its own gradient buffer; the buffers are
/// summed in worker order (so a seed and a thread count fix the result); the sum is
/// clipped if asked; then the optimizer updates the one parameter buffer at the
/// schedule's learning rate. Every buffer is allocated in `init`: a step allocates
/// nothing (the workspaces are prepared for the largest shard there is).
struct DataParallelStep: TrainingStep {
    let threads: Int
    let examplesPerCall: Int
    var reportsProgress: Bool { false }

    private let network: Network
    private let set: TrainingSet
    private let classWeights: [Float]
    private let weighted: Bool
    private let smoothing: Float
    private let threshold: Double
    private let seed: UInt64
    private let clipNorm: Double
    private let divergence: Divergence
    private let freezeEmbeddings: Bool
    private let hasAccuracy: Bool
    private let augmenter: Augmenter
    /// Parts of the buffer the optimizer may change: all, or all but frozen embeddings.
    private let trainable: [Range<Int>]
    /// training.sparse_updates: the optimizer visits only the embedding rows the step
    /// used (with frozen embeddings, none: the dense update already skips the table).
    private let sparseEmbeddingUpdates: Bool
    private let workspaces: [Workspace]
    private let grads: [FloatBuffer]
    private var reducer: GradientReducer
    /// What each example looks like this epoch: itself, or an augmented copy. With
    /// spilled examples, the step's batch as `run` read it (indexed by position).
    private var sequences: EpochExamples
    /// The examples' file when they are spilled (TrainingSet.spillsFlatIDs), and what
    /// `run` reads each batch into: the texts, each one's example, a text's read buffer.
    private let spilled: SpilledTexts?
    private var loaded = EncodedTexts()
    private var loadedRows: [Int] = []
    private let readBuffer: ExpansionScratch
    private var shards: [[Int]]
    private var shardTargets: [[Int32]]
    private var shardValues: [[Float]]
    private var shardWeights: [[Float]]
    private var batch: [Int] = []
    /// Written by the workers in parallel, one slot each: raw buffers, not Swift arrays,
    /// whose exclusivity checks would (rightly) refuse concurrent writes.
    private let losses: WorkerSlots<Double>
    private let corrects: WorkerSlots<Int>
    /// 1 where a worker's shard did not fit its workspace (never, unless planning is wrong).
    private let misfits: WorkerSlots<Int>
    /// The step's threads, started once (a fresh thread per step would allocate), and
    /// its two parallel sections, made once: the shards' passes and the update.
    private let team: WorkerTeam
    private let shardSection: TeamSection<ShardInput>
    private let updateSection: TeamSection<UpdateInput>
    /// The update of everything outside the embedding table, split across the team: a
    /// sparse step's dense part (its embedding rows follow on the calling thread).
    private let outsideTableSection: TeamSection<UpdateInput>

    /// `workspaces`: one per thread, already prepared for the largest shard.
    init(config: Config, network: Network, set: TrainingSet, classWeights: [Float], workspaces: [Workspace]) throws {
        let t = config.training
        self.network = network
        self.set = set
        self.classWeights = classWeights
        weighted = classWeights.contains { $0 != 1 }
        smoothing = Float(t.labelSmoothing)
        threshold = config.model.threshold
        seed = t.seed
        clipNorm = t.clipNorm
        divergence = Divergence(config: config)
        freezeEmbeddings = config.model.freezeEmbeddings
        hasAccuracy = set.targets.task != .regression
        augmenter = Augmenter(tokenDropout: Float(t.augmentTokenDropout), swap: Float(t.augmentSwap))
        threads = workspaces.count
        examplesPerCall = t.batchSize
        let count = network.layout.count, embedding = network.embeddingTensor
        let outsideTable = [0..<embedding.offset, (embedding.offset + embedding.count)..<count]
        trainable = config.model.freezeEmbeddings ? outsideTable : [0..<count]
        sparseEmbeddingUpdates = t.sparseUpdates && !config.model.freezeEmbeddings
        self.workspaces = workspaces
        grads = try (0..<threads).map { _ in try FloatBuffer.allocate(count: count, what: "a gradient buffer") }
        reducer = GradientReducer(network: network)
        if case .spilled(let texts) = set.examples, !augmenter.isActive {
            spilled = texts
            sequences = EpochExamples(EncodedTexts())
            loaded.reserve(texts: t.batchSize, ids: t.batchSize * texts.longest)
            loadedRows.reserveCapacity(t.batchSize)
            readBuffer = ExpansionScratch(ids: texts.longest, tokens: 0)
        } else {
            spilled = nil
            readBuffer = ExpansionScratch(ids: 0, tokens: 0)
            sequences = EpochExamples(try set.examples.features(), augmenting: augmenter.isActive)
        }
        let perShard = (t.batchSize + threads - 1) / threads
        shards = [[Int]](repeating: [], count: threads)
        shardTargets = [[Int32]](repeating: [], count: threads)
        shardValues = [[Float]](repeating: [], count: threads)
        shardWeights = [[Float]](repeating: [], count: threads)
        for w in 0..<threads {
            shards[w].reserveCapacity(perShard)
            shardTargets[w].reserveCapacity(perShard)
            shardValues[w].reserveCapacity(perShard * set.width)
            shardWeights[w].reserveCapacity(perShard)
        }
        batch.reserveCapacity(t.batchSize)
        losses = WorkerSlots(threads)
        corrects = WorkerSlots(threads)
        misfits = WorkerSlots(threads)
        team = WorkerTeam(threads)
        shardSection = DataParallelStep.shardSection(network: network, workspaces: workspaces, grads: grads,
                                                     losses: losses, corrects: corrects, misfits: misfits,
                                                     weighted: weighted, smoothing: smoothing, hasAccuracy: hasAccuracy,
                                                     threshold: threshold, width: set.width)
        updateSection = DataParallelStep.updateSection(trainable: trainable, threads: threads)
        outsideTableSection = DataParallelStep.updateSection(trainable: outsideTable, threads: threads)
    }

    /// The largest shard a worker runs: its workspaces' shape.
    static func shardShape(batchSize: Int, threads: Int, longest: Int) -> BatchShape {
        .bound(texts: (batchSize + threads - 1) / threads, longest: max(longest, 1))
    }

    mutating func run(_ rows: ArraySlice<Int32>, epoch: Int, state: inout TrainingState,
                      progress: (Int, Double) -> Bool) throws -> StepOutcome {
        if augmenter.isActive {
            for e in rows { sequences.augment(Int(e), with: augmenter, rng: &state.rng) }
        }
        batch.removeAll(keepingCapacity: true)
        var sequences = self.sequences
        if let spilled {
            // The batch's texts read into `loaded` (no other reference is left from the
            // last step, so this reuses its room); `batch` holds positions in it.
            loaded.removeAll()
            loadedRows.removeAll(keepingCapacity: true)
            for e in rows {
                guard spilled.read(Int(e), appendingTo: &loaded, scratch: readBuffer.ids) else {
                    throw TextModelError.io(spilled.failure ?? "a read of the temporary file of the training texts failed")
                }
                batch.append(loadedRows.count)
                loadedRows.append(Int(e))
            }
            sequences = EpochExamples(loaded)
        } else {
            for e in rows { batch.append(Int(e)) }
        }
        // Ties go by example, so a spilled batch is ordered as an in-memory one.
        let example: [Int] = spilled == nil ? [] : loadedRows
        // In place: Array.sort's merge buffer would allocate for batches over 20.
        batch.heapSort { a, b in
            sequences[a].count != sequences[b].count ? sequences[a].count > sequences[b].count
                : (example.isEmpty ? a < b : example[a] < example[b])
        }
        for w in 0..<threads {
            shards[w].removeAll(keepingCapacity: true)
            shardTargets[w].removeAll(keepingCapacity: true)
            shardValues[w].removeAll(keepingCapacity: true)
            shardWeights[w].removeAll(keepingCapacity: true)
        }
        var batchWeight: Float = 0
        for (i, position) in batch.enumerated() {
            let w = i % threads, e = example.isEmpty ? position : example[position]
            shards[w].append(position)
            set.targets.append(row: e, classes: &shardTargets[w], values: &shardValues[w])
            let weight = weighted ? classWeights[Int(set.targets.classes[e])] : 1
            shardWeights[w].append(weight)
            batchWeight += weight
        }
        let scale = 1 / batchWeight
        let stepSeed = seed &+ UInt64(state.step) &* 0x9E37_79B9_7F4A_7C15
        let params = state.parameters.pointer
        team.run(shardSection, ShardInput(params: params, stepSeed: stepSeed, scale: scale, sequences: sequences,
                                          shards: shards, targets: shardTargets, values: shardValues, weights: shardWeights))
        guard misfits.sum == 0 else {
            throw TextModelError(.internal, "a training shard is larger than its workspace was prepared for")
        }
        let norm = update(&state)
        state.step += 1
        // The loss is checked by the epoch loop; the norm only exists with clipping.
        if let norm = norm { try divergence.checkGradientNorm(norm, epoch: epoch, step: state.step) }
        return StepOutcome(loss: losses.sum, weight: Double(batchWeight), correct: corrects.sum, examples: batch.count, steps: 1)
    }

    /// Sums the workers' gradients into worker 0's, clips, and lets the optimizer step.
    /// Returns the gradient's norm when clipping computed it, else nil.
    private mutating func update(_ state: inout TrainingState) -> Double? {
        let params = state.parameters.pointer, sum = grads[0].pointer, embedding = network.embeddingTensor
        // Plain SGD leaves an untouched row as it is anyway; Adam, momentum and weight
        // decay would move it, unless training.sparse_updates says not to.
        let sparseUpdates = sparseEmbeddingUpdates || ((state.optimizer as? SGD)?.skipsZeroGradients ?? false)
        reducer.sum(grads, workspaces: workspaces, workers: threads)
        if freezeEmbeddings {
            reducer.forEachTouchedRange(workspaces: workspaces, workers: threads) { range in
                if range.lowerBound >= embedding.offset && range.upperBound <= embedding.offset + embedding.count {
                    sum.advanced(by: range.lowerBound).update(repeating: 0, count: range.count)
                }
            }
        }
        var norm: Double? = nil
        if clipNorm > 0 {
            let trainable = self.trainable
            norm = GradientClipping.clip(sum, maxNorm: clipNorm) { visit in
                if sparseUpdates { reducer.forEachTouchedRange(workspaces: workspaces, workers: threads, visit) }
                else { trainable.forEach(visit) }
            }
        }
        state.optimizer.beginStep(learningRateScale: state.schedule.multiplier(atStep: state.step + 1))
        let optimizer = state.optimizer
        if sparseUpdates {
            // The dense tensors on every thread, then the embedding rows some worker's
            // batch used (an update is elementwise, so the split does not change a bit).
            team.run(outsideTableSection, UpdateInput(optimizer: optimizer, params: params, sum: sum))
            reducer.forEachTouchedRow(workspaces: workspaces, workers: threads) { range in
                optimizer.update(params: params, grads: sum, range: range)
            }
        } else {
            team.run(updateSection, UpdateInput(optimizer: optimizer, params: params, sum: sum))
        }
        return norm
    }
}

extension DataParallelStep {
    /// What one step's shard section reads: the step's own values and the shards
    /// `run` dealt.
    fileprivate struct ShardInput {
        let params: UnsafeMutablePointer<Float>
        let stepSeed: UInt64
        let scale: Float
        let sequences: EpochExamples
        let shards: [[Int]]
        let targets: [[Int32]]
        let values: [[Float]]
        let weights: [[Float]]
    }

    fileprivate struct UpdateInput {
        let optimizer: any Optimizer
        let params: UnsafeMutablePointer<Float>
        let sum: UnsafeMutablePointer<Float>
    }

    /// Worker w's forward and backward pass over its shard into its gradient buffer.
    fileprivate static func shardSection(network: Network, workspaces: [Workspace], grads: [FloatBuffer],
                                         losses: WorkerSlots<Double>, corrects: WorkerSlots<Int>, misfits: WorkerSlots<Int>,
                                         weighted: Bool, smoothing: Float, hasAccuracy: Bool, threshold: Double,
                                         width: Int) -> TeamSection<ShardInput> {
        TeamSection { input, w in
            losses[w] = 0
            corrects[w] = 0
            misfits[w] = 0
            let shard = input.shards[w]
            guard !shard.isEmpty else { return }
            let ws = workspaces[w], sequences = input.sequences, params = input.params
            ws.training = true
            ws.rng = SeededGenerator(seed: input.stepSeed ^ UInt64(w))
            defer { ws.training = false }
            ws.batch.pack(count: shard.count) { sequences[shard[$0]] }
            // The workspaces were prepared for the largest shard; one larger would be
            // a planning bug, refused rather than run past the buffers.
            guard BatchShape(ws.batch).fits(in: ws.shape) else { misfits[w] = 1; return }
            network.forward(params, workspace: ws)
            input.targets[w].withUnsafeBufferPointer { targets in
                input.values[w].withUnsafeBufferPointer { values in
                    input.weights[w].withUnsafeBufferPointer { rowWeights in
                        let loss = LossTargets(targets: targets.baseAddress, values: values.baseAddress,
                                               weights: weighted ? rowWeights.baseAddress : nil,
                                               smoothing: smoothing, scale: input.scale)
                        let outputs = network.outputs(ws)
                        losses[w] = network.loss.loss(outputs: outputs, rows: shard.count, width: width, targets: loss)
                        if hasAccuracy {
                            corrects[w] = network.loss.correct(outputs: outputs, rows: shard.count, width: width,
                                                               targets: loss, threshold: threshold)
                        }
                        network.backward(params, loss: loss, workspace: ws, grads: grads[w].pointer)
                    }
                }
            }
        }
    }

    /// Worker w's slice of every trainable range through the optimizer.
    fileprivate static func updateSection(trainable: [Range<Int>], threads: Int) -> TeamSection<UpdateInput> {
        TeamSection { input, w in
            for range in trainable {
                let n = range.count
                input.optimizer.update(params: input.params, grads: input.sum,
                                       range: (range.lowerBound + w * n / threads)..<(range.lowerBound + (w + 1) * n / threads))
            }
        }
    }
}

/// One slot per worker thread, written concurrently (each worker its own slot) and read
/// after the workers have joined. Freed with its last reference.
final class WorkerSlots<Element: Numeric> {
    private let slots: UnsafeMutableBufferPointer<Element>

    init(_ count: Int) {
        slots = .allocate(capacity: max(count, 1))
        slots.initialize(repeating: 0)
    }

    deinit { slots.deallocate() }

    subscript(_ i: Int) -> Element {
        get { slots[i] }
        set { slots[i] = newValue }
    }

    var sum: Element { slots.reduce(0, +) }
}
