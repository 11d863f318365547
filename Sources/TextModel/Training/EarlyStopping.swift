/// Watches one validation metric per epoch, keeps a copy of the best weights, and says
/// when `patience` epochs have passed without improvement.
struct EarlyStopping {
    let metric: Config.EarlyStoppingMetric
    let patience: Int
    private(set) var bestEpoch = 0
    private(set) var bestValue = 0.0
    private var epochsWithoutImprovement = 0
    private let best: FloatBuffer
    private let count: Int

    /// `best` must hold as many floats as the parameters.
    init(metric: Config.EarlyStoppingMetric, patience: Int, best: FloatBuffer) {
        self.metric = metric
        self.patience = patience
        count = best.capacity
        self.best = best
    }

    private var lowerIsBetter: Bool { metric == .validLoss }

    /// Records an epoch's metric; returns true when training should stop.
    mutating func record(epoch: Int, value: Double, parameters: UnsafePointer<Float>) -> Bool {
        let improved = bestEpoch == 0 || (lowerIsBetter ? value < bestValue : value > bestValue)
        if improved {
            bestEpoch = epoch
            bestValue = value
            epochsWithoutImprovement = 0
            best.pointer.update(from: parameters, count: count)
            return false
        }
        epochsWithoutImprovement += 1
        return epochsWithoutImprovement >= patience
    }

    /// What a checkpoint keeps: the counters here, and `bestWeights`.
    struct State {
        var bestEpoch: Int
        var bestValue: Double
        var epochsWithoutImprovement: Int
    }

    var state: State {
        get { State(bestEpoch: bestEpoch, bestValue: bestValue, epochsWithoutImprovement: epochsWithoutImprovement) }
        set {
            bestEpoch = newValue.bestEpoch
            bestValue = newValue.bestValue
            epochsWithoutImprovement = newValue.epochsWithoutImprovement
        }
    }

    var bestWeights: FloatBuffer { best }

    /// Puts the best epoch's weights back.
    func restore(into parameters: UnsafeMutablePointer<Float>) {
        guard bestEpoch > 0 else { return }
        parameters.update(from: best.pointer, count: count)
    }
}
