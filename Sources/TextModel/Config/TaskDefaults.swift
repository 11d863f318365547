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
///
/// A CNN's max over time tells which features occur in a text, which suits a label,
/// but not how often, which a number summed over the words needs: on a sum of per-word
/// weights, examples/configs/cnn.json as a regressor reached R² 0.90 max-pooled and
/// 0.94 mean-pooled on 10 000 texts (tests/acceptance/test_example_configs.py). So a CNN
/// regressor pools by mean; a classifier keeps Kim's max.
///
/// Plain code, not a static table of closures: valgrind reports a static array's
/// closure contexts as definitely lost.
enum TaskDefaults {
    /// The bag regressor's training.learning_rate and training.epochs (docs/config.md).
    static let bagRegressionLearningRate = 0.2
    static let bagRegressionEpochs = 10
    /// The CNN regressor's model.pooling (docs/config.md).
    static let cnnRegressionPooling = Config.Pooling.mean

    /// Sets the defaults of `task` for the config's model type (before the config's own
    /// keys are read, so that given keys win).
    static func apply(task: Config.Task, to config: inout Config) {
        guard task == .regression else { return }
        switch config.model.type {
        case .bag:
            config.training.learningRate = bagRegressionLearningRate
            config.training.epochs = bagRegressionEpochs
        case .cnn:
            config.model.pooling = cnnRegressionPooling
        case .lstm, .gru, .rnn, .transformer:
            break
        }
    }
}
