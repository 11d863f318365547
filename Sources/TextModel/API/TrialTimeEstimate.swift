/// How long a trial will train, from the trials of the same model type this search has
/// already run: seconds per unit of work measured on them, times the new config's work
/// (epochs × training tokens × a per-token cost that grows with the widths, n-gram
/// orders and subwords the config sets). Rough (overheads and early stopping are not
/// modelled), but enough to skip a trial that cannot finish in the time left rather
/// than start it and cut it. No estimate before a type's first trial.
struct TrialTimeEstimate {
    private var secondsPerUnit: [Config.ModelType: Double] = [:]

    /// Work units of `epochs` epochs of `config` over `tokens` training tokens.
    static func work(_ config: Config, epochs: Int, tokens: Int) -> Double {
        let m = config.model, t = config.tokenizer
        let e = Double(m.embeddingDim), h = Double(m.hiddenDim)
        let perToken: Double
        switch m.type {
        case .bag:
            // Each word brings its word n-grams and, with subwords, a few character
            // n-grams of each length.
            let subwords = t.usesCharNgrams ? Double(t.charNgramsMax - t.charNgramsMin + 1) * 4 : 0
            perToken = e * (Double(t.wordNgrams) + subwords)
        case .cnn:
            perToken = e * Double(m.filters * m.kernelSizes.reduce(0, +))
        case .lstm, .gru, .rnn:
            perToken = (e + h) * h * 4 * Double(m.layers) * (m.bidirectional ? 2 : 1)
        case .transformer:
            perToken = e * (4 * e + 2 * h) * Double(m.layers)
        }
        return Double(epochs) * Double(max(tokens, 1)) * max(perToken, 1)
    }

    /// Records a finished (or cut) trial: `epochs` trained in `seconds`.
    mutating func record(_ config: Config, epochs: Int, tokens: Int, seconds: Double) {
        guard epochs > 0, seconds > 0 else { return }
        secondsPerUnit[config.model.type] = seconds / TrialTimeEstimate.work(config, epochs: epochs, tokens: tokens)
    }

    /// Estimated seconds for `config`'s whole training, or nil for a type not seen yet.
    func seconds(_ config: Config, tokens: Int) -> Double? {
        secondsPerUnit[config.model.type].map { $0 * TrialTimeEstimate.work(config, epochs: config.training.epochs, tokens: tokens) }
    }
}
