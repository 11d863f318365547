/// Progress reports while training reads its file in passes (TrainingSet(config:file:)):
/// one `loading` report per chunk (8 MB of file), on the calling thread, and a cancel
/// asked by the callback stops the reading there (ReadingCancelled).
///
/// Why: reading ten million lines twice takes over a minute before the first step,
/// and a callback that could not be heard until then made Ctrl-C, or a service's
/// cancel, wait for all of it.
struct ReadingProgress {
    let handler: ProgressHandler?
    let epochs: Int
    let started: Double
    /// The file's size, and how many times it is read (2, or 3 when a first pass
    /// counts the rows to hold out for validation).
    let fileBytes: Int
    let passes: Int

    /// Reports `bytesRead` bytes of pass `pass` (0-based); throws if the callback
    /// asks to cancel.
    func report(pass: Int, bytesRead: Int) throws {
        guard let handler else { return }
        let elapsed = Clock.now() - started
        let total = fileBytes * passes, done = min(pass * fileBytes + bytesRead, total)
        let rate = Double(done) / max(elapsed, 1e-9)
        var p = TrainingProgress(kind: .loading, epoch: 0, epochs: epochs, step: 0, totalSteps: 0, runningLoss: .nan,
                                 examplesPerSecond: .nan, etaSeconds: done > 0 ? Double(total - done) / rate : .nan,
                                 elapsedSeconds: elapsed)
        p.bytesRead = done
        p.bytesTotal = total
        if handler(p) { throw ReadingCancelled(bytesRead: done, bytesTotal: total, seconds: elapsed) }
    }
}

/// Training was cancelled by its progress callback while its file was read: nothing
/// was trained, and the model stays as it was (Model.train(file:) turns this into a
/// cancelled report).
struct ReadingCancelled: Error {
    let bytesRead: Int
    let bytesTotal: Int
    let seconds: Double
}
