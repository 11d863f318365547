/// The one place a network is built from a config: the input stage and encoder
/// `model.type` names, over `vocabularySize` words (plus the hash buckets of the bag's
/// n-gram features), with `classes` outputs (1 for regression).
enum NetworkBuilder {
    static func make(config: Config, vocabularySize: Int, classes: Int) -> Network {
        let m = config.model, e = m.embeddingDim
        // tokenizer.vocabulary "hashed": the words' buckets follow the vocabulary (the
        // bag's hashedFeatures already counts them).
        let wordRows = vocabularySize + (config.tokenizer.hashesWords ? config.tokenizer.buckets : 0)
        switch m.type {
        case .bag:
            return Network(input: .embeddingBag, rows: vocabularySize + config.tokenizer.hashedFeatures, embeddingDim: e,
                           classes: classes, task: m.task) { _, _ in MeanEncoder(dim: e) }
        case .cnn:
            return Network(input: .embedding, rows: wordRows, embeddingDim: e, classes: classes, task: m.task) { layout, plan in
                CNNEncoder(inputDim: e, kernelSizes: m.kernelSizes, filters: m.filters, dropout: m.dropout, pooling: m.pooling,
                           layout: &layout, plan: &plan)
            }
        case .lstm: return recurrent(.lstm, config: config, vocabularySize: wordRows, classes: classes)
        case .gru: return recurrent(.gru, config: config, vocabularySize: wordRows, classes: classes)
        case .rnn: return recurrent(.rnn, config: config, vocabularySize: wordRows, classes: classes)
        case .transformer:
            // layers = blocks, hidden_dim = feed-forward width; positions up to max_length.
            return Network(input: .embedding, rows: wordRows, embeddingDim: e, classes: classes, task: m.task) { layout, plan in
                TransformerEncoder(inputDim: e, heads: m.heads, blocks: m.layers, feedForwardDim: m.hiddenDim,
                                   maxLength: config.tokenizer.maxLength, dropout: m.dropout, layout: &layout, plan: &plan)
            }
        }
    }

    private static func recurrent(_ cell: RecurrentCell, config: Config, vocabularySize: Int, classes: Int) -> Network {
        let m = config.model
        return Network(input: .embedding, rows: vocabularySize, embeddingDim: m.embeddingDim, classes: classes, task: m.task) { layout, plan in
            RecurrentEncoder(cell: cell, inputDim: m.embeddingDim, hiddenDim: m.hiddenDim, layers: m.layers,
                             bidirectional: m.bidirectional, dropout: m.dropout, pooling: m.pooling, layout: &layout, plan: &plan)
        }
    }

    /// The network of a trained model: `classes` is 1 for regression, else the labels.
    static func make(config: Config, vocabularySize: Int, labels: Int) -> Network {
        make(config: config, vocabularySize: vocabularySize, classes: config.model.task == .regression ? 1 : labels)
    }
}

/// The loss of a task: softmax cross-entropy (single-label), a sigmoid and binary
/// cross-entropy per label (multi-label), squared error (regression).
func makeLoss(task: Config.Task) -> any Loss {
    switch task {
    case .singleLabel: return SoftmaxCrossEntropyLoss()
    case .multiLabel: return SigmoidBinaryCrossEntropyLoss()
    case .regression: return SquaredErrorLoss()
    }
}
