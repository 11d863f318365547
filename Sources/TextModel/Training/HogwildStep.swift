import CKernels
import Synchronization

/// Lock-free multi-threaded SGD for the bag model (training.hogwild), the scheme of
/// fastText and of Hogwild! (Niu, Recht, Ré, Wright 2011).
///
/// Why: the data-parallel step splits each batch across threads, and the bag model
/// trains best with batches of one example, which cannot be split. Here each of
/// `threads` threads takes a contiguous share of the epoch's shuffled examples and
/// applies each example's update (`sgdStep`) straight to the one shared weight buffer,
/// without locks. An example touches a few embedding rows and the small output layer,
/// so threads seldom write the same weights; when they do, one update is partly lost,
/// which SGD tolerates.
///
/// With 1 thread this is ordinary per-example SGD, deterministic for a seed. With more,
/// the result depends on thread timing (that is why it is opt-in). The unsynchronised
/// weight accesses are data races by design, so the ThreadSanitizer runs skip the
/// tests that train with it on several threads (HogwildRaceTests; see scripts/test.sh).
///
/// Nothing allocates inside the epoch: each thread's scratch is made once, here.
struct HogwildStep: TrainingStep {
    let threads: Int
    /// The whole epoch: the threads divide it among themselves.
    var examplesPerCall: Int { Int.max }
    var reportsProgress: Bool { true }

    private let network: Network
    private let examples: TrainingExamples
    private let targets: [Int32]
    private let classWeights: [Float]
    private let weighted: Bool
    private let smoothing: Float
    private let learningRate: Double
    private let updateEmbeddings: Bool
    private let progressEvery: Int
    private let scratch: [FloatBuffer]
    /// Each thread's sums of an epoch, and the threads (both made once: nothing allocates
    /// inside an epoch).
    private let totals: TotalsSlots
    private let team: WorkerTeam
    /// Each thread's expanded example, when the examples are compact (CompactTexts).
    private let expansions: [ExpansionScratch]
    /// Floats left unused before and after each thread's scratch: one cache line, so two
    /// threads' scratch (written at every step) never share a line (false sharing).
    private static let padding = 16

    /// The bag network (single-label, EmbeddingBag input) over encoded examples and
    /// their target classes; Config checks the rest of what Hogwild needs (plain SGD,
    /// batches of one, no clipping or augmentation). `learningRate` is the configured
    /// rate, which the schedule scales.
    init(network: Network, examples: TrainingExamples, targets: [Int32], classWeights: [Float], smoothing: Float,
         learningRate: Double, updateEmbeddings: Bool, progressEvery: Int, threads: Int) throws {
        self.network = network
        self.threads = threads
        self.examples = examples
        self.targets = targets
        self.classWeights = classWeights
        weighted = classWeights.contains { $0 != 1 }
        self.smoothing = smoothing
        self.learningRate = learningRate
        self.updateEmbeddings = updateEmbeddings
        self.progressEvery = progressEvery
        let floats = HogwildStep.scratchCount(network) + 2 * HogwildStep.padding
        scratch = try (0..<threads).map { _ in try FloatBuffer.allocate(count: floats, what: "Hogwild scratch") }
        totals = TotalsSlots(threads)
        team = WorkerTeam(threads)
        expansions = (0..<threads).map { _ in examples.makeScratch() }
    }

    init(config: Config, network: Network, set: TrainingSet, classWeights: [Float], threads: Int) throws {
        try self.init(network: network, examples: set.examples, targets: set.targets.classes, classWeights: classWeights,
                      smoothing: Float(config.training.labelSmoothing), learningRate: config.training.learningRate,
                      updateEmbeddings: !config.model.freezeEmbeddings, progressEvery: config.training.progressEvery,
                      threads: threads)
    }

    /// Floats of scratch `sgdStep` needs: features and their gradient [E], logits,
    /// probabilities and their gradient [C].
    static func scratchCount(_ network: Network) -> Int { 2 * network.input.dim + 3 * network.classes }

    fileprivate struct Totals {
        var loss = 0.0
        var weight = 0.0
        var correct = 0
        var cancelled = false
        /// The (estimated global) step whose loss was NaN or infinite.
        var nonFiniteStep: Int? = nil
    }

    /// Trains one epoch over `order` (the shuffled example indices). A thread's k-th
    /// example (from 0) counts as step state.step + k·threads + thread + 1 for the
    /// learning rate: about where the run is when it gets there, and exactly the
    /// sequential count with one thread. Thread 0 calls `progress` each time its
    /// estimate of the global step passes a multiple of progress_every; returning true
    /// stops every thread after its current example.
    mutating func run(_ order: ArraySlice<Int32>, epoch: Int, state: inout TrainingState,
                      progress: (Int, Double) -> Bool) throws -> StepOutcome {
        let workers = max(1, min(threads, order.count))
        let stop = Atomic<Bool>(false)
        let totals = self.totals.slots
        for w in 0..<threads { totals[w] = Totals() }
        let firstStep = state.step, count = order.count, base = order.startIndex
        let params = state.parameters.pointer, schedule = state.schedule, rate = learningRate
        let (progressEvery, weighted) = (self.progressEvery, self.weighted)
        examples.withReader { reader in
            targets.withUnsafeBufferPointer { targets in
                classWeights.withUnsafeBufferPointer { classWeights in
                    team.run { w in
                        guard w < workers else { return }
                        var total = Totals()
                        let share = (w * count / workers)..<((w + 1) * count / workers)
                        let scratch = self.scratch[w].pointer + HogwildStep.padding
                        let expansion = self.expansions[w]
                        for (k, position) in share.enumerated() {
                            if stop.load(ordering: .relaxed) { break }
                            let e = Int(order[base + position])
                            guard let target = targets.baseAddress.map({ $0 + e }) else { break }
                            let cls = Int(target.pointee)
                            let weight = classWeights[cls]
                            // The scale 1/weight makes the step that of the weighted mean
                            // loss of a one-example batch, as in the data-parallel step.
                            let loss = LossTargets(targets: target, weights: weighted ? classWeights.baseAddress.map { $0 + cls } : nil,
                                                   smoothing: smoothing, scale: 1 / weight)
                            let example = reader.ids(e, scratch: expansion)
                            let globalStep = firstStep + k * workers + w + 1
                            let step = Float(rate * schedule.multiplier(atStep: globalStep))
                            let result = sgdStep(params, ids: example, loss: loss, learningRate: step, scratch: scratch)
                            total.loss += result.loss
                            // A diverged run stops every thread at once (Divergence).
                            if !result.loss.isFinite {
                                total.nonFiniteStep = globalStep
                                stop.store(true, ordering: .relaxed)
                                break
                            }
                            if result.correct { total.correct += 1 }
                            total.weight += Double(weight)
                            let reached = firstStep + (k + 1) * workers
                            if w == 0 && reached / progressEvery > (reached - workers) / progressEvery && reached <= firstStep + count {
                                if progress(reached, total.loss / max(total.weight, 1e-30)) {
                                    stop.store(true, ordering: .relaxed)
                                    total.cancelled = true
                                }
                            }
                        }
                        totals[w] = total
                    }
                }
            }
        }
        if let failure = examples.readFailure { throw TextModelError.io(failure) }
        var outcome = StepOutcome(examples: count, steps: count)
        for total in totals[0..<workers] {
            outcome.loss += total.loss
            outcome.weight += total.weight
            outcome.correct += total.correct
            outcome.cancelled = outcome.cancelled || total.cancelled
            if let s = total.nonFiniteStep { outcome.nonFiniteStep = min(s, outcome.nonFiniteStep ?? s) }
        }
        state.step += count
        // The run's last step is always reported (with one thread it already was when
        // it falls on a progress_every boundary).
        let last = state.step
        if !outcome.cancelled && outcome.nonFiniteStep == nil && last == state.totalSteps && (workers > 1 || last % progressEvery != 0) {
            outcome.cancelled = progress(last, outcome.loss / max(outcome.weight, 1e-30))
        }
        return outcome
    }

    /// One plain-SGD step on one example, as fastText does it: forward, loss, and the
    /// update of the output layer and of the example's embedding rows, written straight
    /// into `params` without a gradient buffer. Network.backward plus `θ ← θ − lr·g`,
    /// fused: only the rows the example uses are touched, so threads may run steps on
    /// one shared `params` at once. A feature id the text holds k times gets k updates of
    /// 1/n each, where Network.backward sums them first: the same step up to rounding.
    ///
    /// `ids`: the example's feature ids (n of them; none is valid). `loss`: its one
    /// target row. `scratch`: `scratchCount` floats of this thread's own.
    /// Returns the example's loss as the network's Loss counts it, and whether the
    /// forward pass's argmax was the target (training accuracy).
    func sgdStep(_ params: UnsafeMutablePointer<Float>, ids: UnsafeBufferPointer<Int32>, loss: LossTargets,
                 learningRate lr: Float, scratch: UnsafeMutablePointer<Float>) -> (loss: Double, correct: Bool) {
        let e = network.input.dim, c = network.classes
        let hidden = scratch, dHidden = scratch + e
        let logits = scratch + 2 * e, probs = logits + c, dLogits = probs + c
        let table = params + network.input.table.offset
        let weight = params + network.outputWeight.offset, bias = params + network.outputBias.offset
        let softmax = SoftmaxCrossEntropyLoss()

        hidden.update(repeating: 0, count: e)
        let n = ids.count, ahead = InputStage.prefetchDistance
        for k in 0..<min(ahead, n) { tm_prefetch_row(table + Int(ids[k]) * e, 4 * e) }
        for k in 0..<n {
            if k + ahead < n { tm_prefetch_row(table + Int(ids[k + ahead]) * e, 4 * e) }
            let row = table + Int(ids[k]) * e
            for j in 0..<e { hidden[j] += row[j] }
        }
        if !ids.isEmpty {
            let scale = 1 / Float(ids.count)
            for j in 0..<e { hidden[j] *= scale }
        }
        for k in 0..<c {
            let w = weight + k * e
            var sum: Float = 0
            for j in 0..<e { sum += w[j] * hidden[j] }
            logits[k] = sum + bias[k]
        }
        softmax.activate(logits: logits, rows: 1, width: c, outputs: probs)
        let value = softmax.loss(outputs: probs, rows: 1, width: c, targets: loss)
        let correct = loss.targets.map { argmax(probs, c) == Int($0[0]) } ?? false
        softmax.backward(outputs: probs, rows: 1, width: c, targets: loss, dLogits: dLogits)

        // dHidden takes each output weight before that weight's own update.
        dHidden.update(repeating: 0, count: e)
        for k in 0..<c {
            let g = dLogits[k], w = weight + k * e
            for j in 0..<e {
                dHidden[j] += g * w[j]
                w[j] -= lr * g * hidden[j]
            }
            bias[k] -= lr * g
        }
        if updateEmbeddings && !ids.isEmpty {
            let step = lr / Float(ids.count)
            for id in ids {
                let row = table + Int(id) * e
                for j in 0..<e { row[j] -= step * dHidden[j] }
            }
        }
        return (value, correct)
    }
}

/// HogwildStep's per-thread sums: raw slots each thread writes its own of, freed with
/// the step.
private final class TotalsSlots {
    let slots: UnsafeMutableBufferPointer<HogwildStep.Totals>

    init(_ count: Int) {
        slots = .allocate(capacity: max(count, 1))
        slots.initialize(repeating: HogwildStep.Totals())
    }

    deinit { slots.deallocate() }
}
