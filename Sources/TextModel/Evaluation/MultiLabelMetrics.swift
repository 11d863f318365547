#if canImport(Glibc)
import Glibc
#endif

/// Metrics of a multi-label model: each text has a set of labels, and the model
/// predicts every label whose probability reaches the threshold.
///
///   subset accuracy   share of texts whose predicted set equals the true set exactly
///   hamming loss      share of (text, label) decisions that are wrong
///   micro P/R/F1      from true/false positives and false negatives summed over labels
///   macro P/R/F1      the mean over labels of each label's own P/R/F1
///   P@k, R@k          of the k most probable labels: the share that are true (P@k), and
///                     the share of the true labels among them (R@k, over texts with labels)
///
/// Precision or recall with nothing predicted (or nothing to find) is 0, as
/// scikit-learn's zero_division=0.
public struct MultiLabelMetrics {
    public struct PerLabel {
        public var truePositives: Int
        public var falsePositives: Int
        public var falseNegatives: Int
        public var precision: Double { ratio(truePositives, truePositives + falsePositives) }
        public var recall: Double { ratio(truePositives, truePositives + falseNegatives) }
        public var f1: Double { harmonic(precision, recall) }
        public var support: Int { truePositives + falseNegatives }
    }

    public let labels: [String]
    public let threshold: Double
    public let perLabel: [PerLabel]
    public let examples: Int
    public let exactMatches: Int
    public let wrongDecisions: Int
    /// k → (P@k, R@k), for k = 1 … min(5, labels).
    public let atK: [(k: Int, precision: Double, recall: Double)]
    public let meanLoss: Double
    public let skipped: Int

    /// `truth[i]` holds the label indices of text i, `scores[i]` its probability per label.
    public init(labels: [String], truth: [[Int]], scores: [[Float]], threshold: Double, meanLoss: Double = 0, skipped: Int = 0) {
        let c = labels.count
        var flatTruth = [Float](repeating: 0, count: truth.count * c)
        for (i, set) in truth.enumerated() { for j in set where j >= 0 && j < c { flatTruth[i * c + j] = 1 } }
        let flatScores = scores.flatMap { row in (0..<c).map { $0 < row.count ? row[$0] : 0 } }
        self.init(labels: labels, truth: flatTruth, scores: flatScores, threshold: threshold, meanLoss: meanLoss, skipped: skipped)
    }

    /// Row-major [N × C] truth (0/1) and scores.
    init(labels: [String], truth: [Float], scores: [Float], threshold: Double, meanLoss: Double, skipped: Int) {
        let c = max(labels.count, 1)
        let n = truth.count / c
        self.labels = labels
        self.threshold = threshold
        self.meanLoss = meanLoss
        self.skipped = skipped
        examples = n
        var counts = [PerLabel](repeating: PerLabel(truePositives: 0, falsePositives: 0, falseNegatives: 0), count: labels.count)
        var exact = 0, wrong = 0
        let ks = Array(1...max(1, min(5, labels.count)))
        var precisionSums = [Double](repeating: 0, count: ks.count), recallSums = precisionSums
        var textsWithLabels = 0
        var order = [Int](repeating: 0, count: labels.count)
        for i in 0..<n {
            var allRight = true
            var trueCount = 0
            for j in 0..<labels.count {
                let isTrue = truth[i * c + j] > 0.5, predicted = Double(scores[i * c + j]) >= threshold
                if isTrue { trueCount += 1 }
                switch (isTrue, predicted) {
                case (true, true): counts[j].truePositives += 1
                case (false, true): counts[j].falsePositives += 1; wrong += 1; allRight = false
                case (true, false): counts[j].falseNegatives += 1; wrong += 1; allRight = false
                case (false, false): break
                }
            }
            if allRight { exact += 1 }
            // Most probable first; ties by label index, so the ranking is reproducible.
            for j in order.indices { order[j] = j }
            order.sort { scores[i * c + $0] != scores[i * c + $1] ? scores[i * c + $0] > scores[i * c + $1] : $0 < $1 }
            var hits = 0, next = 0
            for (slot, k) in ks.enumerated() {
                while next < k { if truth[i * c + order[next]] > 0.5 { hits += 1 }; next += 1 }
                precisionSums[slot] += Double(hits) / Double(k)
                if trueCount > 0 { recallSums[slot] += Double(hits) / Double(trueCount) }
            }
            if trueCount > 0 { textsWithLabels += 1 }
        }
        perLabel = counts
        exactMatches = exact
        wrongDecisions = wrong
        atK = ks.indices.map { (ks[$0], precisionSums[$0] / Double(max(n, 1)), recallSums[$0] / Double(max(textsWithLabels, 1))) }
    }

    public var subsetAccuracy: Double { examples == 0 ? 0 : Double(exactMatches) / Double(examples) }
    public var hammingLoss: Double {
        examples == 0 || labels.isEmpty ? 0 : Double(wrongDecisions) / Double(examples * labels.count)
    }

    private var totals: PerLabel {
        perLabel.reduce(PerLabel(truePositives: 0, falsePositives: 0, falseNegatives: 0)) {
            PerLabel(truePositives: $0.truePositives + $1.truePositives, falsePositives: $0.falsePositives + $1.falsePositives,
                     falseNegatives: $0.falseNegatives + $1.falseNegatives)
        }
    }
    public var microPrecision: Double { totals.precision }
    public var microRecall: Double { totals.recall }
    public var microF1: Double { totals.f1 }
    private func mean(_ f: (PerLabel) -> Double) -> Double { perLabel.reduce(0) { $0 + f($1) } / Double(max(perLabel.count, 1)) }
    public var macroPrecision: Double { mean(\.precision) }
    public var macroRecall: Double { mean(\.recall) }
    public var macroF1: Double { mean(\.f1) }

    public var json: JSONValue {
        .object([
            ("task", .string(Config.Task.multiLabel.rawValue)),
            ("examples", .int(Int64(examples))),
            ("accuracy", .double(subsetAccuracy)),
            ("subset_accuracy", .double(subsetAccuracy)),
            ("hamming_loss", .double(hammingLoss)),
            ("loss", .double(meanLoss)),
            ("threshold", .double(threshold)),
            ("micro_precision", .double(microPrecision)),
            ("micro_recall", .double(microRecall)),
            ("micro_f1", .double(microF1)),
            ("macro_precision", .double(macroPrecision)),
            ("macro_recall", .double(macroRecall)),
            ("macro_f1", .double(macroF1)),
            ("precision_at_k", .object(atK.map { (String($0.k), .double($0.precision)) })),
            ("recall_at_k", .object(atK.map { (String($0.k), .double($0.recall)) })),
            ("labels", .array(labels.map { .string($0) })),
            ("per_class", perClassJSON(labels, perLabel.map { ($0.precision, $0.recall, $0.f1, $0.support) })),
            ("skipped", .int(Int64(skipped))),
        ])
    }
}

func ratio(_ a: Int, _ b: Int) -> Double { b > 0 ? Double(a) / Double(b) : 0 }
func harmonic(_ p: Double, _ r: Double) -> Double { p + r > 0 ? 2 * p * r / (p + r) : 0 }
