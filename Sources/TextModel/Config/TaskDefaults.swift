/// Defaults that depend on `model.task` as well as `model.type`: the few keys whose
/// type default does not train every task. Keys a config gives always win.
///
/// The bag model's recipe (SGD on one example at a time, learning rate 1, linearly
/// decaying) suits softmax and sigmoid losses, whose gradient per logit is bounded by
/// 1. Squared error's gradient is the residual itself, unbounded: at rate 1 the bag
/// regressor's weights run to NaN within an epoch on ordinary data. At 0.2 it trains
/// (divergence measured from 0.5 up on one- and two-word texts); the smaller rate
/// leaves the zero-initialised output layer slower to start, hence 10 epochs, which
/// the bag model's speed affords.
enum TaskDefaults {
    struct Override {
        /// The key path, as docs/config.md and error messages spell it.
        let path: String
        let value: JSONValue
        let apply: (inout Config) -> Void
    }

    /// The overrides for a model type and task (before the config's own keys are read).
    static func overrides(type: Config.ModelType, task: Config.Task) -> [Override] {
        guard type == .bag, task == .regression else { return [] }
        return bagRegression
    }

    static let bagRegression: [Override] = [
        Override(path: "training.learning_rate", value: .double(0.2)) { $0.training.learningRate = 0.2 },
        Override(path: "training.epochs", value: .int(10)) { $0.training.epochs = 10 },
    ]
}
