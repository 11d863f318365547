/// The result of evaluating a model, by task. `json` is what the C ABI and Python
/// return; every form has "task", "examples", "loss" and "skipped".
public enum Evaluation {
    case singleLabel(ClassificationMetrics)
    case multiLabel(MultiLabelMetrics)
    case regression(RegressionMetrics)

    /// Metrics of outputs [N × width] of a network with `loss`; the mean loss is that
    /// Loss's, the one training minimised (regression: its squared error, in the
    /// targets' units, which is the MSE).
    init(task: Config.Task, labels: [String], loss: any Loss, threshold: Double, outputs: UnsafePointer<Float>,
         targets: Targets, skipped: Int = 0) {
        let n = targets.count, w = targets.width
        let total = targets.classes.withUnsafeBufferPointer { classes in
            targets.values.withUnsafeBufferPointer { values in
                loss.loss(outputs: outputs, rows: n, width: w,
                          targets: LossTargets(targets: task == .singleLabel ? classes.baseAddress : nil,
                                               values: task == .singleLabel ? nil : values.baseAddress))
            }
        }
        let meanLoss = total / Double(max(n, 1))
        switch task {
        case .singleLabel:
            self = .singleLabel(ClassificationMetrics(labels: labels, probabilities: outputs, targets: targets.classes,
                                                      meanLoss: meanLoss, skipped: skipped))
        case .multiLabel:
            let scores = Array(UnsafeBufferPointer(start: outputs, count: n * w))
            self = .multiLabel(MultiLabelMetrics(labels: labels, truth: targets.values, scores: scores,
                                                 threshold: threshold, meanLoss: meanLoss, skipped: skipped))
        case .regression:
            self = .regression(RegressionMetrics(predictions: (0..<n).map { Double(outputs[$0 * w]) },
                                                 targets: targets.values.map(Double.init), skipped: skipped))
        }
    }

    public var json: JSONValue {
        switch self {
        case .singleLabel(let m): return m.json
        case .multiLabel(let m): return m.json
        case .regression(let m): return m.json
        }
    }

    public var examples: Int {
        switch self {
        case .singleLabel(let m): return m.examples
        case .multiLabel(let m): return m.examples
        case .regression(let m): return m.examples
        }
    }

    /// The mean loss: cross-entropy, binary cross-entropy summed over labels, or MSE.
    public var meanLoss: Double {
        switch self {
        case .singleLabel(let m): return m.meanLoss
        case .multiLabel(let m): return m.meanLoss
        case .regression(let m): return m.meanSquaredError
        }
    }

    /// Accuracy (subset accuracy for multi-label); nil for regression.
    public var accuracy: Double? {
        switch self {
        case .singleLabel(let m): return m.accuracy
        case .multiLabel(let m): return m.subsetAccuracy
        case .regression: return nil
        }
    }

    /// Macro-averaged F1 over classes or labels; nil for regression.
    public var macroF1: Double? {
        switch self {
        case .singleLabel(let m): return m.macroF1
        case .multiLabel(let m): return m.macroF1
        case .regression: return nil
        }
    }
}
