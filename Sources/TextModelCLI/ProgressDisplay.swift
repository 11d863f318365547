#if canImport(Glibc)
import Glibc
#endif
import TextModel

/// Training progress on stderr. On a terminal: one bar redrawn in place (epoch, share of
/// the run done, running loss, examples/s, ETA) and a kept line per epoch; otherwise
/// (a log file, a pipe) only the epoch lines. Before the first epoch, while a training
/// file is read, the bar shows the share read. Also turns SIGINT into a clean cancel,
/// heard while the file is read too, and cancels at the first step report past
/// `maxSeconds` (train --max-seconds).
final class ProgressDisplay {
    private let terminal: Bool
    private let quiet: Bool
    private let maxSeconds: Double?
    private var lastDraw = -1.0
    private var barShown = false
    /// The first and the last step reports seen: what a run stopped by `maxSeconds`
    /// trained, and when training (after reading the data) began.
    private(set) var firstStep: TrainingProgress?
    private(set) var lastStep: TrainingProgress?
    /// A step report came at or after `maxSeconds`, and was answered with a cancel.
    private(set) var timedOut = false

    init(quiet: Bool, maxSeconds: Double? = nil) {
        self.quiet = quiet
        self.maxSeconds = maxSeconds
        terminal = Output.stderrIsTerminal
        ProgressDisplay.interrupted = 0
        signal(SIGINT) { _ in ProgressDisplay.interrupted = 1 }
    }

    /// Set by the SIGINT handler; the next progress report cancels training.
    nonisolated(unsafe) static var interrupted: sig_atomic_t = 0
    var wasInterrupted: Bool { ProgressDisplay.interrupted != 0 }

    /// The engine's progress callback: returns true to cancel.
    func report(_ p: TrainingProgress) -> Bool {
        if p.kind == .step {
            if firstStep == nil { firstStep = p }
            lastStep = p
            if let limit = maxSeconds, p.elapsedSeconds >= limit { timedOut = true }
        }
        if quiet { return wasInterrupted || timedOut }
        switch p.kind {
        case .step:
            if terminal && (lastDraw < 0 || p.elapsedSeconds - lastDraw >= 0.1) {
                lastDraw = p.elapsedSeconds
                draw(p)
            }
        case .epoch:
            clearBar()
            var line = "epoch \(p.epoch)/\(p.epochs)  train_loss \(Output.fixed(p.trainLoss))"
            if p.trainAccuracy.isFinite { line += "  train_acc \(Output.fixed(p.trainAccuracy))" }
            if p.validLoss.isFinite { line += "  valid_loss \(Output.fixed(p.validLoss))" }
            if p.validAccuracy.isFinite { line += "  valid_acc \(Output.fixed(p.validAccuracy))" }
            line += "  [\(Output.duration(p.elapsedSeconds))]\n"
            Output.error(line)
        case .loading:
            if terminal && p.bytesTotal > 0 {
                let done = min(1, Double(p.bytesRead) / Double(p.bytesTotal))
                Output.error("\rreading the training data \(Output.format("%3.0f", done * 100))%  ETA \(Output.duration(p.etaSeconds))\u{1B}[K")
                barShown = true
            }
        }
        return wasInterrupted || timedOut
    }

    /// Removes the bar before anything else is printed.
    func finish() { clearBar() }

    private func draw(_ p: TrainingProgress) {
        let width = 24
        let done = p.totalSteps > 0 ? min(1, max(0, Double(p.step) / Double(p.totalSteps))) : 0
        let filled = Int(done * Double(width))
        let bar = String(repeating: "=", count: filled) + (filled < width ? ">" : "")
            + String(repeating: " ", count: max(0, width - filled - 1))
        let line = "epoch \(p.epoch)/\(p.epochs) [\(bar)] \(Output.format("%3.0f", done * 100))%"
            + "  loss \(Output.fixed(p.runningLoss))  \(Output.format("%.0f", p.examplesPerSecond.isFinite ? p.examplesPerSecond : 0)) ex/s"
            + "  ETA \(Output.duration(p.etaSeconds))"
        Output.error("\r" + line + "\u{1B}[K")
        barShown = true
    }

    private func clearBar() {
        if barShown { Output.error("\r\u{1B}[K"); barShown = false }
    }
}
