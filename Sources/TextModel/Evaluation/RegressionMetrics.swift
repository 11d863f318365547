/// Metrics of a regression model: mean squared error (the loss), mean absolute error,
/// root mean squared error and R² = 1 − SS_res / SS_tot (1 is perfect, 0 is no better
/// than predicting the mean; with constant targets R² is 1 if every prediction is
/// exact, else 0, as scikit-learn).
public struct RegressionMetrics {
    public let examples: Int
    public let meanSquaredError: Double
    public let meanAbsoluteError: Double
    public let r2: Double
    public let meanTarget: Double
    public let skipped: Int

    public init(predictions: [Double], targets: [Double], skipped: Int = 0) {
        let n = min(predictions.count, targets.count)
        examples = n
        self.skipped = skipped
        let count = Double(max(n, 1))
        var squared = 0.0, absolute = 0.0, sum = 0.0
        for i in 0..<n {
            let e = predictions[i] - targets[i]
            squared += e * e
            absolute += abs(e)
            sum += targets[i]
        }
        let mean = sum / count
        var total = 0.0
        for i in 0..<n { total += (targets[i] - mean) * (targets[i] - mean) }
        meanSquaredError = squared / count
        meanAbsoluteError = absolute / count
        meanTarget = mean
        r2 = total > 0 ? 1 - squared / total : (squared == 0 ? 1 : 0)
    }

    public var rootMeanSquaredError: Double { meanSquaredError.squareRoot() }

    public var json: JSONValue {
        .object([
            ("task", .string(Config.Task.regression.rawValue)),
            ("examples", .int(Int64(examples))),
            ("loss", .double(meanSquaredError)),
            ("mse", .double(meanSquaredError)),
            ("rmse", .double(rootMeanSquaredError)),
            ("mae", .double(meanAbsoluteError)),
            ("r2", .double(r2)),
            ("mean_target", .double(meanTarget)),
            ("skipped", .int(Int64(skipped))),
        ])
    }
}
