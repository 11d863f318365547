extension Model {
    /// The privacy record (training.privacy) of the trained model as JSON: an object with
    /// epsilon, delta, noise_multiplier, max_grad_norm, sampling_rate, steps, accountant,
    /// sampling, secure_rng and covered_by_accountant, or null for a model trained
    /// without privacy. Throws TM_ERR_STATE for an untrained model.
    public func privacyJSON() throws -> JSONValue {
        try trainedModel().privacy?.json ?? .null
    }
}
