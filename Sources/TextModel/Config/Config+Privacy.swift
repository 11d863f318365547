extension Config {
    /// The checks of tokenizer.vocabulary, model.labels and training.privacy. What ε
    /// covers is the weights trained by DP-SGD; a vocabulary or label set built from the
    /// private data would be published beside them, unprotected (docs/privacy.md).
    func checkPrivacyAndSources() throws {
        if tokenizer.vocabulary == .pretrained && model.pretrainedVectors == nil {
            throw TextModelError.config("tokenizer.vocabulary \"pretrained\" needs model.pretrained_vectors: the file whose words make the vocabulary")
        }
        if let labels = model.labels, model.task == .regression {
            throw TextModelError.config("model.labels (\(labels.count) given) applies to classifiers, not model.task \"regression\"")
        }
        if let labels = model.labels, model.task == .singleLabel && labels.count < 2 {
            throw TextModelError.config("model.labels must list at least two labels for model.task \"single_label\"")
        }
        guard training.privacy != nil else { return }
        if tokenizer.vocabulary == .data {
            throw TextModelError.config("training.privacy needs a vocabulary that does not come from the private training data: set tokenizer.vocabulary to \"hashed\" (words hashed into tokenizer.buckets) or \"pretrained\" (the words of model.pretrained_vectors)")
        }
        if model.task != .regression && model.labels == nil {
            throw TextModelError.config("training.privacy needs the label set given, not read from the private training data: set model.labels to the list of labels")
        }
        if training.hogwild {
            throw TextModelError.config("training.privacy does not combine with training.hogwild: DP-SGD clips and noises each batch's per-example gradients")
        }
        if training.clipNorm != 0 {
            throw TextModelError.config("training.privacy clips each example's gradient to training.privacy.max_grad_norm; set training.clip_norm to 0")
        }
    }
}
