import Synchronization

/// Lock-free multi-threaded SGD for the bag model (training.hogwild), the scheme of
/// fastText and of Hogwild! (Niu, Recht, Ré, Wright 2011).
///
/// Why: the data-parallel trainer splits each batch across threads, and the bag model
/// trains best with batches of one example, which cannot be split. Here each of
/// `threads` threads takes a contiguous share of the epoch's shuffled examples and
/// applies each example's update (`BagNetwork.sgdStep`) straight to the one shared
/// weight buffer, without locks. An example touches a few embedding rows and the small
/// output layer, so threads seldom write the same weights; when they do, one update is
/// partly lost, which SGD tolerates.
///
/// With 1 thread this is ordinary per-example SGD, deterministic for a seed. With more,
/// the result depends on thread timing (that is why it is opt-in). The unsynchronised
/// weight accesses are data races by design, so the ThreadSanitizer runs skip the
/// tests that train with it on several threads (HogwildRaceTests; see scripts/test.sh).
///
/// Nothing allocates inside the epoch: each thread's scratch is made once, here.
struct HogwildTrainer {
    let network: BagNetwork
    let threads: Int
    private let scratch: [FloatBuffer]
    /// Floats left unused before and after each thread's scratch: one cache line, so two
    /// threads' scratch (written at every step) never share a line (false sharing).
    private static let padding = 16

    init(network: BagNetwork, threads: Int) {
        self.network = network
        self.threads = threads
        scratch = (0..<threads).map { _ in FloatBuffer(count: network.sgdScratchCount + 2 * HogwildTrainer.padding) }
    }

    struct Epoch {
        var loss = 0.0
        var weight = 0.0
        /// Examples whose forward pass predicted their target, before the update.
        var correct = 0
        var cancelled = false
    }

    /// What the epoch reads: the encoded examples, their targets and class weights.
    struct Examples {
        let ids: UnsafeBufferPointer<Int32>
        let offsets: UnsafeBufferPointer<Int>
        let targets: UnsafeBufferPointer<Int32>
        let classWeights: UnsafeBufferPointer<Float>
        let weighted: Bool
        let smoothing: Float
    }

    /// Trains one epoch over `order` (the shuffled example indices).
    ///
    /// - firstStep: steps (examples) done in earlier epochs.
    /// - learningRate: the rate at a 1-based global step. A thread's k-th example
    ///   (from 0) counts as step firstStep + k·threads + thread + 1: about where the
    ///   run is when it gets there, and exactly the sequential count with one thread.
    /// - progress: called on the calling thread (thread 0) with an estimated global
    ///   step, that thread's running mean loss and the examples done; returning true
    ///   stops every thread after its current example.
    func runEpoch(order: UnsafeBufferPointer<Int>, examples: Examples, parameters: UnsafeMutablePointer<Float>,
                  updateEmbeddings: Bool, firstStep: Int, progressEvery: Int,
                  learningRate: (Int) -> Float, progress: (_ step: Int, _ runningLoss: Double) -> Bool) -> Epoch {
        let workers = max(1, min(threads, order.count))
        let stop = Atomic<Bool>(false)
        let totals = UnsafeMutableBufferPointer<Epoch>.allocate(capacity: workers)
        totals.initialize(repeating: Epoch())
        defer { totals.deallocate() }

        Parallel.run(workers) { w in
            var total = Epoch()
            let share = (w * order.count / workers)..<((w + 1) * order.count / workers)
            let scratch = self.scratch[w].pointer + HogwildTrainer.padding
            for (k, position) in share.enumerated() {
                if stop.load(ordering: .relaxed) { break }
                let e = order[position]
                let target = examples.targets.baseAddress! + e
                let weight = examples.classWeights[Int(target.pointee)]
                // The scale 1/weight makes the step that of the weighted mean loss of a
                // one-example batch, as in the data-parallel trainer.
                let loss = LossTargets(targets: target, weights: examples.weighted ? examples.classWeights.baseAddress! + Int(target.pointee) : nil,
                                       smoothing: examples.smoothing, scale: 1 / weight)
                let ids = UnsafeBufferPointer(rebasing: examples.ids[examples.offsets[e]..<examples.offsets[e + 1]])
                let rate = learningRate(firstStep + k * workers + w + 1)
                let result = network.sgdStep(parameters, ids: ids, loss: loss, learningRate: rate,
                                             updateEmbeddings: updateEmbeddings, scratch: scratch)
                total.loss += result.loss
                if result.correct { total.correct += 1 }
                total.weight += Double(weight)
                // Thread 0 reports each time its estimate of the global step passes a
                // multiple of progressEvery (with one thread: at exactly those steps).
                let step = firstStep + (k + 1) * workers
                if w == 0 && step / progressEvery > (step - workers) / progressEvery && step <= firstStep + order.count {
                    if progress(step, total.loss / max(total.weight, 1e-30)) {
                        stop.store(true, ordering: .relaxed)
                        total.cancelled = true
                    }
                }
            }
            totals[w] = total
        }
        var epoch = Epoch()
        for total in totals {
            epoch.loss += total.loss
            epoch.weight += total.weight
            epoch.correct += total.correct
            epoch.cancelled = epoch.cancelled || total.cancelled
        }
        return epoch
    }
}
