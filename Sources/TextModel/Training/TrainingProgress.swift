/// What a progress callback receives during training (mirrors `tm_progress`).
public struct TrainingProgress {
    /// `loading`: the training file is being read, before the first epoch (see
    /// bytesRead); `step`: periodic, during an epoch; `epoch`: at an epoch's end.
    public enum Kind { case step, epoch, loading }

    public var kind: Kind
    public var epoch: Int
    public var epochs: Int
    public var step: Int
    public var totalSteps: Int
    public var runningLoss: Double
    public var examplesPerSecond: Double
    public var etaSeconds: Double
    public var trainLoss: Double = .nan
    public var validLoss: Double = .nan
    public var validAccuracy: Double = .nan
    public var elapsedSeconds: Double
    /// Epoch reports of classifiers: the epoch's training accuracy (see
    /// TrainingReport.Epoch.trainAccuracy); NaN otherwise.
    public var trainAccuracy: Double = .nan
    /// Epoch reports of training.privacy runs: ε spent so far; NaN otherwise.
    public var epsilon: Double = .nan
    /// Loading reports: bytes of the training file read so far over all of its passes,
    /// and what all the passes read (its size times the passes); 0 otherwise.
    public var bytesRead: Int = 0
    public var bytesTotal: Int = 0
}

/// Receives progress; returns true to cancel training.
public typealias ProgressHandler = (TrainingProgress) -> Bool
