extension Trainer {
    /// The DP-SGD step of training.privacy, with σ given or searched for (as Opacus's
    /// make_private_with_epsilon) so that the whole run's ε at δ is at most
    /// target_epsilon and within 1% below it.
    func makePrivateStep(network: Network, set: TrainingSet, classWeights: [Float],
                         workspaces: [Workspace]) throws -> DPSGDStep {
        guard let p = config.training.privacy else { throw TextModelError(.internal, "no training.privacy") }
        let sigma = try Trainer.noiseMultiplier(p, examples: set.examples.count, batchSize: config.training.batchSize,
                                                epochs: config.training.epochs)
        return try DPSGDStep(config: config, network: network, set: set, classWeights: classWeights,
                             workspaces: workspaces, noiseMultiplier: sigma)
    }

    /// training.privacy.noise_multiplier, or the σ that spends target_epsilon over the run.
    static func noiseMultiplier(_ p: PrivacyConfig, examples: Int, batchSize: Int, epochs: Int) throws -> Double {
        if let sigma = p.noiseMultiplier { return sigma }
        guard let target = p.targetEpsilon else { throw TextModelError(.internal, "training.privacy without σ or ε") }
        let q = Double(min(batchSize, examples)) / Double(max(examples, 1))
        let steps = DPSGDStep.stepsPerEpoch(examples: examples, batchSize: batchSize) * epochs
        guard let sigma = RDPAccountant.noiseMultiplier(targetEpsilon: target, samplingRate: q, steps: steps,
                                                        delta: p.resolvedDelta(examples: examples)) else {
            throw TextModelError.config("training.privacy.target_epsilon = \(target) cannot be reached with a noise multiplier up to 10000 for \(steps) steps at sampling rate \(q): raise target_epsilon or lower training.epochs or batch_size")
        }
        return sigma
    }
}
