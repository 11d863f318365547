/// Token attributions of a trained model, for every model type and task.
///
/// A text's input rows are its feature ids' embeddings (TracedEncoding): one per token,
/// and for the bag model also one per hashed word n-gram and character n-gram. Scores
/// are computed per row and reported per token, a row's score split equally over the
/// tokens it was made of (a word n-gram's over its n words; a character n-gram's goes
/// to its word), so the token scores add up to the row scores.
///
/// Integrated gradients: for reference rows r and the text's rows x,
///   score(row) = Σⱼ (x − r)ⱼ · Σₖ wₖ ∂f/∂inputⱼ (r + αₖ (x − r))
/// with the Gauss–Legendre points αₖ and weights wₖ of `steps` points (GaussLegendre);
/// the points of a text run as the sequences of one batch through the forward and
/// backward pass. The completeness gap delta = Σ scores − (f(x) − f(r)) is reported.
///
/// Occlusion: for every window of `window` consecutive tokens, f(x) − f(x with the
/// window's rows set to r); a token's score is the mean over the windows covering it
/// (with window 1: the exact leave-one-token-out drop).
///
/// f is the target's probability, logit or (regression) value (TargetOutput). Dropout
/// is off. The model is only read, so many threads may explain with one model at once.
struct Explainer {
    let model: TrainedModel
    let options: AttributionOptions
    /// Integrated gradients of recurrent networks from their first layer's projections
    /// (ProjectedPath.swift); false runs every network from interpolated embeddings
    /// (tests compare the two).
    var projections = true
    /// Occlusion of one-direction LSTMs by `<unk>` from the states before each window
    /// (OcclusionContinuation.swift); false runs every variant whole (tests compare).
    var continuation = true

    /// The attributions of `texts` (UTF-8 bytes, valid or not) on up to `threads` threads
    /// (0 = every core); the results do not depend on the thread count.
    func explain(_ texts: [[UInt8]], threads: Int) throws -> [TextAttribution] {
        let network = model.network, c = network.classes
        try options.validate(task: model.task, classes: c)
        let traced = texts.map { model.encoder.traced(utf8: $0) }
        for t in traced where t.sources.count != t.ids.count {
            throw TextModelError(.internal, "a text's feature sources (\(t.sources.count)) do not match its feature ids (\(t.ids.count))")
        }
        let order = traced.indices.sorted { a, b in
            traced[a].ids.count != traced[b].ids.count ? traced[a].ids.count > traced[b].ids.count : a < b
        }
        let runner = ProbeRunner(network: network, params: model.parameters.pointer, texts: traced, reference: options.reference)
        let f = TargetOutput(task: model.task, output: options.output, scaling: model.scaling, classes: c)
        let integrated = options.method == .integratedGradients

        // f(x) (and f(r)) of every text, which also gives the predicted targets.
        var ends = [Probe]()
        for i in order {
            if integrated { ends.append(Probe(text: i, fill: .path(0))) }
            ends.append(Probe(text: i, fill: .path(1)))
        }
        var logits = [Float](repeating: 0, count: ends.count * c), outputs = logits
        try logits.withUnsafeMutableBufferPointer { logits in
            try outputs.withUnsafeMutableBufferPointer { outputs in
                try forward(runner, ends, threads: threads) { batch, ws in
                    let z = ws[network.buffers.logits], p = network.outputs(ws)
                    for (b, e) in batch.enumerated() {
                        for j in 0..<c {
                            logits[e * c + j] = z[b * c + j]
                            outputs[e * c + j] = p[b * c + j]
                        }
                    }
                }
            }
        }
        var targets = [Int](repeating: 0, count: texts.count)
        var value = [Double](repeating: .nan, count: texts.count), referenceValue = value
        for pass in 0..<2 {
            for (e, probe) in ends.enumerated() {
                guard case .path(let alpha) = probe.fill, (alpha == 1) == (pass == 0) else { continue }
                let z = Array(logits[(e * c)..<((e + 1) * c)]), p = Array(outputs[(e * c)..<((e + 1) * c)])
                if pass == 0 {
                    // f(x) first: it gives the predicted target, which f(r) then reads.
                    let target = options.target ?? (model.task == .regression ? 0 : argmax(p, c))
                    targets[probe.text] = target
                    value[probe.text] = f.value(logits: z, outputs: p, target: target)
                } else {
                    referenceValue[probe.text] = f.value(logits: z, outputs: p, target: targets[probe.text])
                }
            }
        }

        let rowScores = integrated
            ? try integratedGradients(runner, order: order, targets: targets, target: f, threads: threads)
            : try occlusion(runner, order: order, targets: targets, values: value, target: f, threads: threads)

        return traced.indices.map { i in
            let t = traced[i]
            var scores = [Double](repeating: 0, count: t.tokens.count)
            for (r, source) in t.sources.enumerated() where !source.isEmpty {
                let share = rowScores[i][r] / Double(source.count)
                for token in source { scores[token] += share }
            }
            let tokens = t.tokens.enumerated().map { k, token in
                TokenAttribution(token: token.text, bytes: token.bytes, score: Float(scores[k]))
            }
            let delta = integrated ? rowScores[i].reduce(0, +) - (value[i] - referenceValue[i]) : .nan
            return TextAttribution(tokens: tokens, target: targets[i], output: value[i],
                                   referenceOutput: integrated ? referenceValue[i] : .nan, delta: delta)
        }
    }

    /// Forward passes only; `read(probe indices, workspace)` sees each batch's outputs.
    private func forward(_ runner: ProbeRunner, _ probes: [Probe], threads: Int,
                         read: (Range<Int>, Workspace) -> Void) throws {
        try runner.run(probes, model: model, threads: threads) { _, batch, ws in read(batch, ws) }
    }

    /// Per text, per row: Σₖ wₖ (x − r) · ∂f/∂input at point k.
    private func integratedGradients(_ runner: ProbeRunner, order: [Int], targets: [Int], target f: TargetOutput,
                                     threads: Int) throws -> [[Double]] {
        let network = runner.network, c = network.classes, e = runner.dim
        let rule = GaussLegendre(points: options.steps)
        var probes = [Probe]()
        for i in order where !runner.texts[i].ids.isEmpty {
            for k in 0..<options.steps {
                probes.append(Probe(text: i, fill: .path(Float(rule.nodes[k])), weight: rule.weights[k]))
            }
        }
        if projections, let scores = try projectedIntegratedGradients(runner, probes: probes, targets: targets, target: f, threads: threads) {
            return scores
        }
        let batchCount = runner.batches(probes).count
        // Each batch's per-text sums, added up afterwards in batch order, so the result
        // does not depend on which thread finished first.
        var partials = [[(text: Int, rows: [Double])]](repeating: [], count: batchCount)
        try partials.withUnsafeMutableBufferPointer { partials in
            try runner.run(probes, model: model, threads: threads) { index, batch, ws in
                let p = network.outputs(ws), d = network.logitGradient(ws)
                for (b, probe) in batch.enumerated() {
                    f.gradient(outputs: p + b * c, target: targets[probes[probe].text], into: d + b * c)
                }
                let g = network.backwardFromLogits(runner.params, workspace: ws, grads: nil)
                var sums = [(text: Int, rows: [Double])]()
                for (b, probeIndex) in batch.enumerated() {
                    let probe = probes[probeIndex], t = runner.texts[probe.text]
                    if sums.last?.text != probe.text { sums.append((probe.text, [Double](repeating: 0, count: t.ids.count))) }
                    let last = sums.count - 1
                    for r in 0..<t.ids.count {
                        sums[last].rows[r] += probe.weight * runner.difference(t, r, dot: g + (ws.batch.stepOffsets[r] + b) * e)
                    }
                }
                partials[index] = sums
            }
        }
        var scores = runner.texts.map { [Double](repeating: 0, count: $0.ids.count) }
        for batch in partials {
            for (text, rows) in batch {
                for r in rows.indices { scores[text][r] += rows[r] }
            }
        }
        return scores
    }

    /// Per text: each token's mean drop f(x) − f(occluded) over the windows covering
    /// it, as the scores of the text's word rows (every other row 0).
    private func occlusion(_ runner: ProbeRunner, order: [Int], targets: [Int], values: [Double], target f: TargetOutput,
                           threads: Int) throws -> [[Double]] {
        let network = runner.network, c = network.classes
        var probes = [Probe]()
        for i in order {
            let words = runner.texts[i].words
            guard words > 0 else { continue }
            let width = min(options.window, words)
            for first in 0...(words - width) { probes.append(Probe(text: i, fill: .occluded(first..<(first + width)))) }
        }
        // Occluding a word by <unk> is predicting the text with <unk> in its place: when
        // every row is a word (not the bag), that runs from ids, as prediction does.
        var ids: [[Int32]]? = nil
        if options.reference == .unknown && network.input.kind == .embedding {
            ids = probes.map { probe in
                var sequence = runner.texts[probe.text].ids
                if case .occluded(let window) = probe.fill {
                    for t in window { sequence[t] = Vocabulary.unknownID }
                }
                return sequence
            }
        }
        var drops = [Double](repeating: 0, count: probes.count)
        if continuation, let ids = ids,
           let continued = try continuedOcclusion(runner, probes: probes, ids: ids, values: values, targets: targets,
                                                  target: f, threads: threads) {
            drops = continued
        } else { try drops.withUnsafeMutableBufferPointer { drops in
            try runner.run(probes, model: model, threads: threads, ids: ids) { _, batch, ws in
                let z = ws[network.buffers.logits], p = network.outputs(ws)
                for (b, probeIndex) in batch.enumerated() {
                    let text = probes[probeIndex].text
                    drops[probeIndex] = values[text] - f.value(logits: z + b * c, outputs: p + b * c, target: targets[text])
                }
            }
        } }
        // Token scores first (mean over covering windows), then as "rows" of the word
        // features with every other row 0, so `explain`'s folding passes them through.
        var scores = runner.texts.map { [Double](repeating: 0, count: $0.ids.count) }
        var covering = runner.texts.map { [Int](repeating: 0, count: $0.words) }
        for (k, probe) in probes.enumerated() {
            guard case .occluded(let window) = probe.fill else { continue }
            for token in window {
                scores[probe.text][token] += drops[k]
                covering[probe.text][token] += 1
            }
        }
        for i in scores.indices {
            for token in covering[i].indices where covering[i][token] > 0 { scores[i][token] /= Double(covering[i][token]) }
        }
        return scores
    }
}
