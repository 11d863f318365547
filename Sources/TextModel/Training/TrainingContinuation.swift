/// Training driven from outside one epoch range at a time, for training across
/// processes (docs/dask.md): each process trains on its own rows with the vocabulary
/// and labels of everyone's merged counts, a driver averages the parameters after each
/// range and hands them back for the next.
///
/// A call trains the epochs after `state`'s (from epoch 1 without one) up to
/// `lastEpoch`, and returns the state after it. The state is a checkpoint's bytes
/// (TrainingCheckpoint): weights, optimizer state and step count, random generator and
/// example order, so the learning-rate schedule, Adam's moments and the shuffles go on
/// exactly where they stopped. Calls continuing each other's state on the same rows
/// therefore give, bit for bit, the weights of one run of all the epochs; `parameters`
/// (if given) replaces the state's weights only, so a process keeps its own optimizer
/// state and shuffles across averaging rounds (local SGD).
struct TrainingContinuation {
    /// Vocabulary and labels from these instead of the rows trained on.
    var counts: CorpusCounts?
    /// A state a previous call returned; nil starts from the seed's initialisation.
    var state: [UInt8]?
    /// Weights [layout.count] to continue from instead of the state's.
    var parameters: [Float]?
    /// The last epoch this call trains (at most training.epochs).
    var lastEpoch: Int
}
