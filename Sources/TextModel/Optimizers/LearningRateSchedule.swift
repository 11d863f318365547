#if canImport(Glibc)
import Glibc
#endif

/// The learning-rate multiplier at each optimizer step (1-based), given the run's total
/// steps. An optional linear warm-up from 0 comes first, then the schedule:
///   constant  1
///   linear    decays linearly to 0 at the last step (fastText's schedule)
///   cosine    half a cosine from 1 to 0
///   step      multiplied by `stepFactor` every `stepEpochs` epochs
struct LearningRateSchedule {
    let kind: Config.LRSchedule
    let warmupSteps: Int
    let totalSteps: Int
    let stepsPerEpoch: Int
    let stepEpochs: Int
    let stepFactor: Double

    init(config: Config.Training, totalSteps: Int, stepsPerEpoch: Int) {
        kind = config.lrSchedule
        warmupSteps = config.warmupSteps
        self.totalSteps = max(totalSteps, 1)
        self.stepsPerEpoch = max(stepsPerEpoch, 1)
        stepEpochs = config.lrStepEpochs
        stepFactor = config.lrStepFactor
    }

    func multiplier(atStep step: Int) -> Double {
        if step <= warmupSteps { return Double(step) / Double(warmupSteps + 1) }
        let afterWarmup = Double(step - warmupSteps - 1)
        let span = Double(max(totalSteps - warmupSteps, 1))
        switch kind {
        case .constant:
            return 1
        case .linear:
            return max(0, 1 - afterWarmup / span)
        case .cosine:
            return 0.5 * (1 + cos(Double.pi * min(afterWarmup / span, 1)))
        case .step:
            let epochsDone = (step - 1) / stepsPerEpoch
            return power(stepFactor, epochsDone / max(stepEpochs, 1))
        }
    }

    private func power(_ base: Double, _ exponent: Int) -> Double {
        var r = 1.0
        for _ in 0..<max(exponent, 0) { r *= base }
        return r
    }
}
