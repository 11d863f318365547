/// Differentially private SGD (Abadi et al. 2016) as Opacus runs it: per step a batch
/// drawn by Poisson sampling (each training example with probability q = batch_size / N),
/// every example's gradient over every trainable parameter clipped to L2 norm C, the
/// clipped gradients summed, N(0, σ²C²) added to every trainable coordinate (dense:
/// embedding rows the batch did not touch get noise too), the result divided by the
/// expected batch size q·N, then the configured optimizer.
///
/// Per-example gradients: each example runs forward and backward as a batch of one on
/// its worker's workspace, which works for every encoder and task. The backward writes
/// only the example's touched parameters (the dense tensors and the embedding rows of
/// its ids), so the norm, the clipped add and the clearing visit exactly those: for the
/// bag model that is its few rows and the output layer, not the whole table. A step's
/// batch is dealt round-robin to the threads; each sums its clipped gradients in order,
/// and the sums are added in thread order, so a seed and a thread count fix the result.
///
/// The step takes a whole epoch (`examplesPerCall`) and draws its own batches, so the
/// epoch loop is unchanged; with sampling "shuffle" it cuts the loop's shuffled order
/// into batches of batch_size instead (the accountant's ε does not cover that).
struct DPSGDStep: TrainingStep {
    let threads: Int
    let examplesPerCall: Int
    var reportsProgress: Bool { true }
    var examplesPerStep: Int { batchSize }

    let privacy: PrivacyConfig
    /// σ, C, q, steps per epoch and δ of the run (the model file's record).
    let noiseMultiplier: Double
    let samplingRate: Double
    let stepsPerEpoch: Int
    let delta: Double
    /// RDP of one step at each of the accountant's orders (q and σ are fixed for the run).
    private let stepRDP: RDPAccountant

    private let network: Network
    private let set: TrainingSet
    private let classWeights: [Float]
    private let weighted: Bool
    private let smoothing: Float
    private let threshold: Double
    private let seed: UInt64
    private let hasAccuracy: Bool
    private let freezeEmbeddings: Bool
    private let batchSize: Int
    private let progressEvery: Int
    private let augmenter: Augmenter
    private let noise: GaussianNoise
    /// Parts of the buffer the optimizer changes (all, or all but frozen embeddings).
    private let trainable: [Range<Int>]
    /// Every tensor but the embedding table: what each example's gradient touches in full.
    private let dense: [Range<Int>]
    private let workspaces: [Workspace]
    /// Per worker: one example's gradient, and the sum of its clipped gradients.
    private let exampleGrads: [FloatBuffer]
    private let sums: [FloatBuffer]
    private let scratch: [WorkerScratch]
    private var sequences: EpochExamples
    private var batch: [Int] = []
    private var shards: [[Int]]
    private let losses: WorkerSlots<Double>
    private let weights: WorkerSlots<Double>
    private let corrects: WorkerSlots<Int>
    private let failures: WorkerSlots<Int>
    /// The step's threads, started once (a fresh thread per step would allocate), and
    /// its two parallel sections, made once: the per-example gradients and the noisy mean.
    private let team: WorkerTeam
    private let exampleSection: TeamSection<ExampleInput>
    private let noiseSection: TeamSection<NoiseInput>

    /// `workspaces`: one per thread, prepared for one text of the set's longest.
    init(config: Config, network: Network, set: TrainingSet, classWeights: [Float], workspaces: [Workspace],
         noiseMultiplier: Double) throws {
        guard let p = config.training.privacy else { throw TextModelError(.internal, "DPSGDStep without training.privacy") }
        let t = config.training
        privacy = p
        self.noiseMultiplier = noiseMultiplier
        let n = set.examples.count
        batchSize = min(t.batchSize, n)
        samplingRate = Double(batchSize) / Double(n)
        stepsPerEpoch = DPSGDStep.stepsPerEpoch(examples: n, batchSize: t.batchSize)
        delta = p.resolvedDelta(examples: n)
        var oneStep = RDPAccountant()
        oneStep.compose(samplingRate: samplingRate, noiseMultiplier: noiseMultiplier, steps: 1)
        stepRDP = oneStep
        self.network = network
        self.set = set
        self.classWeights = classWeights
        weighted = classWeights.contains { $0 != 1 }
        smoothing = Float(t.labelSmoothing)
        threshold = config.model.threshold
        seed = t.seed
        hasAccuracy = set.targets.task != .regression
        freezeEmbeddings = config.model.freezeEmbeddings
        progressEvery = t.progressEvery
        augmenter = Augmenter(tokenDropout: Float(t.augmentTokenDropout), swap: Float(t.augmentSwap))
        noise = GaussianNoise(secure: p.secureRNG, seed: t.seed ^ 0xD1FF_E2E7_1A15_0001)
        threads = workspaces.count
        examplesPerCall = max(n, 1)
        let count = network.layout.count, embedding = network.embeddingTensor
        dense = [0..<embedding.offset, (embedding.offset + embedding.count)..<count]
        trainable = freezeEmbeddings ? dense : [0..<count]
        self.workspaces = workspaces
        exampleGrads = try (0..<threads).map { _ in try FloatBuffer.allocate(count: count, what: "a per-example gradient buffer") }
        sums = try (0..<threads).map { _ in try FloatBuffer.allocate(count: count, what: "a clipped-gradient sum") }
        scratch = (0..<threads).map { _ in WorkerScratch(rows: embedding.shape[0], width: set.width, longest: set.examples.longest) }
        sequences = EpochExamples(try set.examples.features(), augmenting: augmenter.isActive)
        shards = [[Int]](repeating: [], count: threads)
        // A Poisson batch may hold every example: room for that, so no step grows them.
        batch.reserveCapacity(n)
        for w in 0..<threads { shards[w].reserveCapacity(n) }
        losses = WorkerSlots(threads)
        weights = WorkerSlots(threads)
        corrects = WorkerSlots(threads)
        failures = WorkerSlots(threads)
        team = WorkerTeam(threads)
        exampleSection = DPSGDStep.exampleSection(
            network: network, set: set, workspaces: workspaces, exampleGrads: exampleGrads, sums: sums, scratch: scratch,
            losses: losses, weights: weights, corrects: corrects, failures: failures, weighted: weighted,
            classWeights: classWeights, smoothing: smoothing, hasAccuracy: hasAccuracy, threshold: threshold,
            dense: dense, clip: p.maxGradNorm, freeze: freezeEmbeddings)
        noiseSection = DPSGDStep.noiseSection(sums: sums, scratch: scratch, trainable: trainable, threads: threads,
                                              noise: noise, failures: failures)
    }

    /// Optimizer steps per epoch: N / batch_size rounded up, as the data-parallel step.
    static func stepsPerEpoch(examples: Int, batchSize: Int) -> Int {
        max(1, (examples + batchSize - 1) / batchSize)
    }

    /// What `steps` steps of this run have spent, at the run's δ.
    func privacySpent(steps: Int) -> PrivacyRecord? {
        PrivacyRecord(epsilon: stepRDP.scaled(by: steps).epsilon(delta: delta).epsilon, delta: delta,
                      noiseMultiplier: noiseMultiplier, maxGradNorm: privacy.maxGradNorm, samplingRate: samplingRate,
                      steps: steps, accountant: privacy.accountant.rawValue, sampling: privacy.sampling.rawValue,
                      secureRNG: privacy.secureRNG)
    }

    mutating func run(_ rows: ArraySlice<Int32>, epoch: Int, state: inout TrainingState,
                      progress: (Int, Double) -> Bool) throws -> StepOutcome {
        var outcome = StepOutcome()
        let n = set.examples.count
        if augmenter.isActive {
            for e in rows { sequences.augment(Int(e), with: augmenter, rng: &state.rng) }
        }
        for s in 0..<stepsPerEpoch {
            batch.removeAll(keepingCapacity: true)
            switch privacy.sampling {
            case .poisson:
                // Each example independently with probability q: 53-bit uniforms.
                let threshold = UInt64(samplingRate * 0x1p53)
                for e in 0..<n where state.rng.next() >> 11 < threshold { batch.append(e) }
            case .shuffle:
                let start = rows.startIndex + s * batchSize
                if start < rows.endIndex { for e in rows[start..<min(start + batchSize, rows.endIndex)] { batch.append(Int(e)) } }
            }
            // Poisson: the noisy sum is divided by the expected batch size q·N whatever
            // was drawn; shuffle: by the batch's own size (an ordinary mean).
            let divisor = privacy.sampling == .poisson ? samplingRate * Double(n) : Double(max(batch.count, 1))
            let step = try runStep(divisor: divisor, state: &state)
            outcome.loss += step.loss
            outcome.weight += step.weight
            outcome.correct += step.correct
            outcome.examples += batch.count
            outcome.steps += 1
            if !step.loss.isFinite { outcome.nonFiniteStep = state.step; return outcome }
            if state.step % progressEvery == 0 || state.step == state.totalSteps,
               progress(state.step, set.scaling.std * set.scaling.std * outcome.loss / max(outcome.weight, 1e-30)) {
                outcome.cancelled = true
                return outcome
            }
        }
        return outcome
    }

    /// One step on the given examples (indices into the training set), the noisy sum
    /// divided by `divisor` (tests; `run` draws the batches).
    mutating func step(on examples: [Int], divisor: Double, state: inout TrainingState) throws -> StepOutcome {
        batch = examples
        return try runStep(divisor: divisor, state: &state)
    }

    /// One step on `batch`: clipped per-example gradients summed per worker, then the
    /// noisy mean and the optimizer.
    private mutating func runStep(divisor: Double, state: inout TrainingState) throws -> StepOutcome {
        for w in 0..<threads { shards[w].removeAll(keepingCapacity: true) }
        for (i, e) in batch.enumerated() { shards[i % threads].append(e) }
        let stepSeed = seed &+ UInt64(state.step) &* 0x9E37_79B9_7F4A_7C15
        let params = state.parameters.pointer
        team.run(exampleSection, ExampleInput(params: params, stepSeed: stepSeed, shards: shards, sequences: sequences))
        guard failures.sum == 0 else {
            throw TextModelError(.internal, "a training example is longer than its workspace was prepared for")
        }
        try noisyMean(divisor: divisor, state: &state)
        state.step += 1
        return StepOutcome(loss: losses.sum, weight: weights.sum, correct: corrects.sum, examples: batch.count, steps: 1)
    }

    /// sums[0] ← (Σ_w sums[w] + N(0, σ²C²)) / divisor over the trainable coordinates,
    /// clearing the other workers' sums, then the optimizer's update of the same
    /// coordinates (which clears sums[0]): one pass, one join of the threads. Each
    /// thread takes a slice of every trainable range; its noise stream is keyed by
    /// (step, thread, range), so a seed and a thread count fix the noise.
    private mutating func noisyMean(divisor: Double, state: inout TrainingState) throws {
        let s = noiseMultiplier * privacy.maxGradNorm, scale = Float(1 / divisor), step = UInt64(state.step)
        state.optimizer.beginStep(learningRateScale: state.schedule.multiplier(atStep: state.step + 1))
        team.run(noiseSection, NoiseInput(optimizer: state.optimizer, params: state.parameters.pointer, s: s, scale: scale, step: step))
        guard failures.sum == 0 else {
            // The weights of the slices already updated moved without their noise check
            // failing; training stops here with the error.
            throw TextModelError(.io, "reading /dev/urandom failed: no secure random numbers for training.privacy.secure_rng")
        }
    }
}

extension DPSGDStep {
    fileprivate struct ExampleInput {
        let params: UnsafeMutablePointer<Float>
        let stepSeed: UInt64
        let shards: [[Int]]
        let sequences: EpochExamples
    }

    fileprivate struct NoiseInput {
        let optimizer: any Optimizer
        let params: UnsafeMutablePointer<Float>
        /// σ·C, the noise's standard deviation; the divisor's inverse; the step.
        let s: Double
        let scale: Float
        let step: UInt64
    }

    /// Worker w's examples: each one's gradient, clipped to C, added to the worker's sum.
    fileprivate static func exampleSection(
        network: Network, set: TrainingSet, workspaces: [Workspace], exampleGrads: [FloatBuffer], sums: [FloatBuffer],
        scratch: [WorkerScratch], losses: WorkerSlots<Double>, weights: WorkerSlots<Double>, corrects: WorkerSlots<Int>,
        failures: WorkerSlots<Int>, weighted: Bool, classWeights: [Float], smoothing: Float, hasAccuracy: Bool,
        threshold: Double, dense: [Range<Int>], clip: Double, freeze: Bool
    ) -> TeamSection<ExampleInput> {
        let width = set.width, embedding = network.embeddingTensor, rowWidth = embedding.shape[1]
        return TeamSection { input, w in
            let (params, stepSeed, shards, sequences) = (input.params, input.stepSeed, input.shards, input.sequences)
                losses[w] = 0
                weights[w] = 0
                corrects[w] = 0
                failures[w] = 0
                let ws = workspaces[w], g = exampleGrads[w].pointer, sum = sums[w].pointer, marks = scratch[w]
                ws.training = true
                defer { ws.training = false }
                for e in shards[w] {
                    ws.rng = SeededGenerator(seed: stepSeed ^ UInt64(e))
                    ws.batch.pack(CollectionOfOne(sequences[e]))
                    guard BatchShape(ws.batch).fits(in: ws.shape) else { failures[w] = 1; return }
                    network.forward(params, workspace: ws)
                    marks.classes.removeAll(keepingCapacity: true)
                    marks.values.removeAll(keepingCapacity: true)
                    set.targets.append(row: e, classes: &marks.classes, values: &marks.values)
                    marks.weight[0] = weighted ? classWeights[Int(set.targets.classes[e])] : 1
                    marks.classes.withUnsafeBufferPointer { targets in
                        marks.values.withUnsafeBufferPointer { values in
                            let loss = LossTargets(targets: targets.baseAddress, values: values.baseAddress,
                                                   weights: weighted ? UnsafePointer(marks.weight) : nil,
                                                   smoothing: smoothing, scale: 1)
                            let outputs = network.outputs(ws)
                            losses[w] += network.loss.loss(outputs: outputs, rows: 1, width: width, targets: loss)
                            if hasAccuracy {
                                corrects[w] += network.loss.correct(outputs: outputs, rows: 1, width: width,
                                                                    targets: loss, threshold: threshold)
                            }
                            network.backward(params, loss: loss, workspace: ws, grads: g)
                        }
                    }
                    weights[w] += Double(marks.weight[0])
                    // The example's rows, each once.
                    marks.rows.removeAll(keepingCapacity: true)
                    marks.nextStamp()
                    for id in ws.batch.tokens where marks.seen[Int(id)] != marks.stamp {
                        marks.seen[Int(id)] = marks.stamp
                        marks.rows.append(embedding.offset + Int(id) * rowWidth)
                    }
                    var squared = 0.0
                    for range in dense { squared += sumOfSquares(g, range) }
                    if !freeze { for base in marks.rows { squared += sumOfSquares(g, base..<(base + rowWidth)) } }
                    let factor = Float(min(1, clip / (squared.squareRoot() + 1e-6)))
                    for range in dense { addAndClear(g, into: sum, factor, range) }
                    for base in marks.rows {
                        if freeze { g.advanced(by: base).update(repeating: 0, count: rowWidth) }
                        else { addAndClear(g, into: sum, factor, base..<(base + rowWidth)) }
                    }
                }
        }
    }

    /// Worker w's slice of every trainable range: the workers' sums added, noise, the
    /// mean, the optimizer.
    fileprivate static func noiseSection(sums: [FloatBuffer], scratch: [WorkerScratch], trainable: [Range<Int>],
                                         threads: Int, noise: GaussianNoise, failures: WorkerSlots<Int>) -> TeamSection<NoiseInput> {
        TeamSection { input, w in
            let (optimizer, params, s, scale, step) = (input.optimizer, input.params, input.s, input.scale, input.step)
                failures[w] = 0
                let into = sums[0].pointer
                for (r, range) in trainable.enumerated() {
                    let n = range.count
                    let slice = (range.lowerBound + w * n / threads)..<(range.lowerBound + (w + 1) * n / threads)
                    guard !slice.isEmpty else { continue }
                    for other in 1..<max(threads, 1) where other < sums.count {
                        let from = sums[other].pointer
                        for j in slice { into[j] += from[j]; from[j] = 0 }
                    }
                    if s > 0 {
                        do {
                            try noise.add(to: into + slice.lowerBound, count: slice.count, s: s,
                                          key: (step &* 1024 &+ UInt64(w)) &* 64 &+ UInt64(r), words: scratch[w].words)
                        } catch { failures[w] = 1; return }
                    }
                    for j in slice { into[j] *= scale }
                    optimizer.update(params: params, grads: into, range: slice)
                }
        }
    }
}

/// One worker's reusable memory: its example's targets, which embedding rows it saw
/// (stamps, so no clearing per example) and the noise generator's words.
fileprivate final class WorkerScratch {
    var classes: [Int32] = []
    var values: [Float] = []
    let weight: UnsafeMutablePointer<Float>
    var seen: [UInt32]
    private(set) var stamp: UInt32 = 0
    var rows: [Int] = []
    let words: UnsafeMutablePointer<UInt64>

    /// `longest`: the most ids an example has (its rows can be no more).
    init(rows: Int, width: Int, longest: Int) {
        seen = [UInt32](repeating: 0, count: rows)
        self.rows.reserveCapacity(longest)
        classes.reserveCapacity(1)
        values.reserveCapacity(width)
        weight = .allocate(capacity: 1)
        weight.initialize(to: 1)
        words = .allocate(capacity: GaussianNoise.chunk)
    }

    /// A fresh stamp; after 2³² examples the marks start over.
    func nextStamp() {
        stamp &+= 1
        if stamp == 0 {
            for i in seen.indices { seen[i] = 0 }
            stamp = 1
        }
    }

    deinit {
        weight.deallocate()
        words.deallocate()
    }
}

private func sumOfSquares(_ g: UnsafeMutablePointer<Float>, _ range: Range<Int>) -> Double {
    var s = 0.0
    for j in range { s += Double(g[j]) * Double(g[j]) }
    return s
}

private func addAndClear(_ g: UnsafeMutablePointer<Float>, into sum: UnsafeMutablePointer<Float>, _ factor: Float, _ range: Range<Int>) {
    for j in range {
        sum[j] += factor * g[j]
        g[j] = 0
    }
}

