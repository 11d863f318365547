/// The validation metric an autotune search ranks its trials by, read from a model's
/// Evaluation. Classifiers: accuracy (subset accuracy for multi-label), macro-F1, or
/// one label's F1 (`f1:LABEL`); regression: RMSE, MAE, MSE (lower is better) or R².
public enum AutotuneMetric: Equatable {
    case accuracy
    case macroF1
    case labelF1(String)
    case rmse, mae, mse, r2

    static let regressionNames = ["rmse", "mae", "mse", "r2"]

    /// Parses "accuracy", "macro_f1", "f1:LABEL", "rmse", "mae", "mse" or "r2", checked
    /// against the task (a regression metric needs a regression task and the reverse).
    public init(name: String, task: Config.Task) throws {
        switch name {
        case "accuracy": self = .accuracy
        case "macro_f1": self = .macroF1
        case "rmse": self = .rmse
        case "mae": self = .mae
        case "mse": self = .mse
        case "r2": self = .r2
        default:
            guard name.hasPrefix("f1:"), name.count > 3 else {
                throw TextModelError.config("metric must be \"accuracy\", \"macro_f1\", \"f1:LABEL\" (one label's F1), \"rmse\", \"mae\", \"mse\" or \"r2\" (got \"\(AutotuneOptions.shortened(name))\")")
            }
            self = .labelF1(String(name.dropFirst(3)))
        }
        if task == .regression && !isRegression {
            throw TextModelError.config("metric \"\(self.name)\" needs a classifier; a regression search ranks by \"rmse\", \"mae\", \"mse\" or \"r2\"")
        }
        if task != .regression && isRegression {
            throw TextModelError.config("metric \"\(self.name)\" is a regression error; a \(task.rawValue) search ranks by \"accuracy\", \"macro_f1\" or \"f1:LABEL\"")
        }
    }

    public var name: String {
        switch self {
        case .accuracy: return "accuracy"
        case .macroF1: return "macro_f1"
        case .labelF1(let label): return "f1:" + label
        case .rmse: return "rmse"
        case .mae: return "mae"
        case .mse: return "mse"
        case .r2: return "r2"
        }
    }

    var isRegression: Bool {
        switch self {
        case .rmse, .mae, .mse, .r2: return true
        case .accuracy, .macroF1, .labelF1: return false
        }
    }

    /// RMSE, MAE and MSE are errors: smaller wins.
    public var greaterIsBetter: Bool {
        switch self {
        case .rmse, .mae, .mse: return false
        case .accuracy, .macroF1, .labelF1, .r2: return true
        }
    }

    /// Whether `a` ranks above `b`; a tie keeps the earlier trial.
    func isBetter(_ a: Double, than b: Double) -> Bool { greaterIsBetter ? a > b : a < b }

    /// The metric of an evaluation; nil when it does not apply or is not finite (a
    /// diverged model), which makes the trial ineligible.
    func value(of evaluation: Evaluation) throws -> Double? {
        let v: Double?
        switch (self, evaluation) {
        case (.accuracy, _): v = evaluation.accuracy
        case (.macroF1, _): v = evaluation.macroF1
        case (.labelF1(let label), .singleLabel(let m)):
            guard let i = m.labels.firstIndex(of: label) else { throw unknownLabel(label, m.labels) }
            v = m.perClass[i].f1
        case (.labelF1(let label), .multiLabel(let m)):
            guard let i = m.labels.firstIndex(of: label) else { throw unknownLabel(label, m.labels) }
            v = m.perLabel[i].f1
        case (.rmse, .regression(let m)): v = m.meanSquaredError.squareRoot()
        case (.mae, .regression(let m)): v = m.meanAbsoluteError
        case (.mse, .regression(let m)): v = m.meanSquaredError
        case (.r2, .regression(let m)): v = m.r2
        default: v = nil
        }
        guard let value = v, value.isFinite else { return nil }
        return value
    }

    private func unknownLabel(_ label: String, _ labels: [String]) -> TextModelError {
        let list = labels.prefix(20).map { "\"\($0)\"" }.joined(separator: ", ")
        return TextModelError.config("metric \"f1:\(AutotuneOptions.shortened(label))\" names a label the training data does not have (labels: \(list)\(labels.count > 20 ? ", …" : ""))")
    }
}
