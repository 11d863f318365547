/// What the loss compares each example's outputs with, in the form the task's head
/// reads: a class index per example (single-label) or `width` values per example
/// (multi-label: 1 for each label the text has, else 0; regression: the number).
struct Targets {
    let task: Config.Task
    /// Outputs per example: the number of labels, or 1 for regression.
    let width: Int
    private(set) var classes: [Int32] = []
    private(set) var values: [Float] = []

    var count: Int { task == .singleLabel ? classes.count : values.count / max(width, 1) }

    /// Targets of raw label fields against a model's labels (regression: numbers).
    /// `what` names the data in messages ("the training data", "the evaluation data");
    /// `firstRow`: the example number of the first label, less one (a chunk of a file).
    init(task: Config.Task, labels rawLabels: [String], labelIDs: [String: Int32], width: Int,
         separator: String, what: String, knownLabels: [String], firstRow: Int = 0) throws {
        self.task = task
        self.width = width
        switch task {
        case .singleLabel:
            classes.reserveCapacity(rawLabels.count)
            for label in rawLabels {
                guard let id = labelIDs[label] else { throw Targets.unknown(label, what: what, known: knownLabels) }
                classes.append(id)
            }
        case .multiLabel:
            values = [Float](repeating: 0, count: rawLabels.count * width)
            for (row, field) in rawLabels.enumerated() {
                for label in Targets.split(field, separator: separator) {
                    guard let id = labelIDs[label] else { throw Targets.unknown(label, what: what, known: knownLabels) }
                    values[row * width + Int(id)] = 1
                }
            }
        case .regression:
            values.reserveCapacity(rawLabels.count)
            for (row, field) in rawLabels.enumerated() {
                values.append(Float(try Targets.number(field, row: firstRow + row, what: what)))
            }
        }
    }

    /// The labels of one multi-label field: split at the separator, blanks trimmed,
    /// empty parts and repeats dropped.
    static func split(_ field: String, separator: String) -> [String] {
        var seen = Set<String>(), out = [String]()
        for part in field.split(separator: separator, omittingEmptySubsequences: true) {
            let label = trimmed(part)
            if !label.isEmpty && seen.insert(label).inserted { out.append(label) }
        }
        return out
    }

    /// A regression target: a finite decimal number.
    static func number(_ field: String, row: Int, what: String) throws -> Double {
        guard let value = Double(Targets.trimmed(field[...])), value.isFinite, abs(value) < 1e30 else {
            throw TextModelError.data("\(what) has the target \"\(echo(field, maxBytes: 40))\" (example \(row + 1)), which is not a finite number; a regression model needs a number for every text")
        }
        return value
    }

    private static func trimmed(_ s: Substring) -> String {
        String(s.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }

    /// Distinct labels of raw label fields, in byte order (the model's label order).
    static func labels(of rawLabels: [String], task: Config.Task, separator: String) -> [String] {
        var set = Set<String>()
        switch task {
        case .singleLabel: set = Set(rawLabels)
        case .multiLabel: for field in rawLabels { set.formUnion(split(field, separator: separator)) }
        case .regression: return []
        }
        return set.sorted { Array($0.utf8).lexicographicallyPrecedes($1.utf8) }
    }

    private static func unknown(_ label: String, what: String, known: [String]) -> TextModelError {
        let list = (known.count <= 20 ? known : Array(known.prefix(20))).map { echo($0) }.joined(separator: ", ") + (known.count <= 20 ? "" : ", …")
        return TextModelError.data("\(what) has the label \"\(echo(label))\", which the model was not trained on (its labels: \(list))")
    }

    /// Replaces regression values by (value − mean) / std, which keeps the squared-error
    /// gradients of any target scale near 1 (the model undoes it when predicting).
    mutating func standardize(_ scaling: TargetScaling) {
        for i in values.indices { values[i] = Float((Double(values[i]) - scaling.mean) / scaling.std) }
    }

    /// Appends `other`'s examples (of the same task and width) after these.
    mutating func append(contentsOf other: Targets) {
        classes.append(contentsOf: other.classes)
        values.append(contentsOf: other.values)
    }

    /// Copies example `row`'s targets to the end of `classes` or `values`.
    func append(row: Int, classes outClasses: inout [Int32], values outValues: inout [Float]) {
        if task == .singleLabel { outClasses.append(classes[row]) }
        else { outValues.append(contentsOf: values[(row * width)..<((row + 1) * width)]) }
    }
}

/// Mean and standard deviation of a regression model's training targets: the network
/// learns the standardised target, predictions are mapped back with them.
public struct TargetScaling: Equatable {
    public var mean: Double
    public var std: Double

    public static let identity = TargetScaling(mean: 0, std: 1)

    init(mean: Double, std: Double) {
        self.mean = mean
        self.std = std
    }

    init(of values: [Float]) {
        let n = Double(max(values.count, 1))
        let mean = values.reduce(0.0) { $0 + Double($1) } / n
        let variance = values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
        self.init(mean: mean, std: variance > 1e-24 ? variance.squareRoot() : 1)
    }

    func unscale(_ v: Float) -> Float { Float(Double(v) * std + mean) }
}
