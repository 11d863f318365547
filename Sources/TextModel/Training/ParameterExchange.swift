/// What a distributed training run does with the weights at a synchronisation point:
/// reads the flat parameter buffer (ParameterLayout order, as `Model.copyParameters`)
/// and replaces it in place, e.g. by its average over every worker's copy.
///
/// `step` is the optimizer steps this run has taken so far (a sync point is the same
/// step on every worker that trains the same number of steps per epoch). Throwing
/// stops training with that error; the model is then left as it was before the call.
/// Called on the training thread, between two runs of the inner step: nothing else
/// reads or writes the buffer meanwhile.
public protocol ParameterExchange {
    func exchange(_ parameters: UnsafeMutablePointer<Float>, count: Int, step: Int) throws
}

/// When a run exchanges its parameters: every `syncEvery` optimizer steps (0: only at
/// epoch ends) and at the end of every epoch.
/// Every worker must build the same vocabulary and labels for the buffers to line up:
/// `counts` (e.g. merged over all workers' rows) gives them, as for a continuation.
struct ExchangeSchedule {
    let exchange: any ParameterExchange
    let syncEvery: Int
    var counts: CorpusCounts? = nil
}
