#if canImport(Glibc)
import Glibc
#endif

/// Accuracy, per-class precision/recall/F1/support, macro and weighted averages,
/// the confusion matrix (rows = true class, columns = predicted) and mean loss.
public struct ClassificationMetrics {
    public struct PerClass {
        public var precision: Double
        public var recall: Double
        public var f1: Double
        public var support: Int
    }

    public let labels: [String]
    public let confusion: [[Int]]
    public let meanLoss: Double
    public let skipped: Int

    public init(labels: [String], truth: [Int], predicted: [Int], meanLoss: Double, skipped: Int = 0) {
        self.labels = labels
        var matrix = [[Int]](repeating: [Int](repeating: 0, count: labels.count), count: labels.count)
        for (t, p) in zip(truth, predicted) { matrix[t][p] += 1 }
        confusion = matrix
        self.meanLoss = meanLoss
        self.skipped = skipped
    }

    /// Metrics of predicted probabilities [N × C] against target classes: the predicted
    /// class is the most probable; `meanLoss` is the model's (its Loss's) mean loss.
    init(labels: [String], probabilities: UnsafePointer<Float>, targets: [Int32], meanLoss: Double, skipped: Int = 0) {
        let c = labels.count
        var predicted = [Int]()
        predicted.reserveCapacity(targets.count)
        for i in targets.indices { predicted.append(argmax(probabilities + i * c, c)) }
        self.init(labels: labels, truth: targets.map { Int($0) }, predicted: predicted, meanLoss: meanLoss, skipped: skipped)
    }

    public var macroF1: Double { perClass.reduce(0) { $0 + $1.f1 } / Double(max(labels.count, 1)) }

    public var examples: Int { confusion.reduce(0) { $0 + $1.reduce(0, +) } }

    public var accuracy: Double {
        let correct = labels.indices.reduce(0) { $0 + confusion[$1][$1] }
        return examples == 0 ? 0 : Double(correct) / Double(examples)
    }

    /// Precision and recall with no predictions (or no examples) are 0, as scikit-learn
    /// reports them with zero_division=0.
    public var perClass: [PerClass] {
        labels.indices.map { c in
            let tp = Double(confusion[c][c])
            let predicted = Double(labels.indices.reduce(0) { $0 + confusion[$1][c] })
            let support = confusion[c].reduce(0, +)
            let precision = predicted > 0 ? tp / predicted : 0
            let recall = support > 0 ? tp / Double(support) : 0
            let f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
            return PerClass(precision: precision, recall: recall, f1: f1, support: support)
        }
    }

    public var json: JSONValue {
        let classes = perClass
        let n = Double(max(labels.count, 1))
        let total = Double(max(examples, 1))
        func mean(_ f: (PerClass) -> Double) -> Double { classes.reduce(0) { $0 + f($1) } / n }
        return .object([
            ("task", .string(Config.Task.singleLabel.rawValue)),
            ("examples", .int(Int64(examples))),
            ("accuracy", .double(accuracy)),
            ("loss", .double(meanLoss)),
            ("macro_precision", .double(mean { $0.precision })),
            ("macro_recall", .double(mean { $0.recall })),
            ("macro_f1", .double(macroF1)),
            ("weighted_f1", .double(classes.reduce(0) { $0 + $1.f1 * Double($1.support) } / total)),
            ("labels", .array(labels.map { .string($0) })),
            ("per_class", perClassJSON(labels, classes.map { ($0.precision, $0.recall, $0.f1, $0.support) })),
            ("confusion_matrix", .array(confusion.map { row in .array(row.map { .int(Int64($0)) }) })),
            ("skipped", .int(Int64(skipped))),
        ])
    }
}

/// The "per_class" object of the metrics JSON: label → precision, recall, f1, support.
func perClassJSON(_ labels: [String], _ rows: [(precision: Double, recall: Double, f1: Double, support: Int)]) -> JSONValue {
    .object(zip(labels, rows).map { label, m in
        (label, .object([
            ("precision", .double(m.precision)),
            ("recall", .double(m.recall)),
            ("f1", .double(m.f1)),
            ("support", .int(Int64(m.support))),
        ]))
    })
}
