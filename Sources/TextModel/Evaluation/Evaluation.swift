/// The result of evaluating a model, by task. `json` is what the C ABI and Python
/// return; every form has "task", "examples", "loss" and "skipped".
public enum Evaluation {
    case singleLabel(ClassificationMetrics)
    case multiLabel(MultiLabelMetrics)
    case regression(RegressionMetrics)

    /// Metrics of a model's outputs [N × width] (see TrainedModel.outputs) against targets.
    init(model: TrainedModel, outputs: UnsafePointer<Float>, targets: Targets, skipped: Int = 0) {
        let n = targets.count, w = model.width
        switch model.task {
        case .singleLabel:
            self = .singleLabel(ClassificationMetrics(labels: model.labels, probabilities: outputs, targets: targets.classes, skipped: skipped))
        case .multiLabel:
            let scores = Array(UnsafeBufferPointer(start: outputs, count: n * w))
            let loss = targets.values.withUnsafeBufferPointer { y in
                OutputHead.sigmoid.loss(outputs: outputs, rows: n, width: w, targets: LossTargets(values: y.baseAddress))
            }
            self = .multiLabel(MultiLabelMetrics(labels: model.labels, truth: targets.values, scores: scores,
                                                 threshold: model.config.model.threshold,
                                                 meanLoss: loss / Double(max(n, 1)), skipped: skipped))
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
