/// Integrated gradients of a recurrent network without the first layer's input product
/// per point (see Network+Projections): each token's projection P(x) and the reference's
/// P(r) are computed once per batch (per direction, the encoder's own fillInputTable
/// call), point α's projections are P(r) + α (P(x) − P(r)), and a row's score is
/// Σₖ wₖ (P(x) − P(r)) · dPₖ, the same quantity as (x − r) · ∂f/∂input to float rounding.
/// Applies to token-embedding inputs whose first layer projects the embeddings directly
/// (recurrent encoders at inference: no dropout); others return nil and take the
/// embedding path.
extension Explainer {
    func projectedIntegratedGradients(_ runner: ProbeRunner, probes: [Probe], targets: [Int], target f: TargetOutput,
                                      threads: Int) throws -> [[Double]]? {
        let network = runner.network, encoder = network.encoder, params = runner.params
        guard network.input.kind == .embedding, let shape = encoder.inputTableShape(vocabulary: network.input.rows),
              runner.texts.allSatisfy({ $0.words == $0.ids.count }) else { return nil }
        let width = shape.width, directions = shape.directions, e = runner.dim, c = network.classes
        let block = directions * width

        // P(r) per direction [D × width]: the reference row (zeros or <unk>'s embedding) projected.
        var referenceRow = [Float](repeating: 0, count: e)
        if runner.reference == .unknown {
            let unk = params + network.input.table.offset + Int(Vocabulary.unknownID) * e
            for j in 0..<e { referenceRow[j] = unk[j] }
        }
        var reference = [Float](repeating: 0, count: block)
        referenceRow.withUnsafeBufferPointer { row in
            reference.withUnsafeMutableBufferPointer { out in
                for d in 0..<directions {
                    encoder.fillInputTable(params, embeddings: row.baseAddress!, direction: d, words: 0..<1,
                                           into: out.baseAddress! + d * width)
                }
            }
        }

        let batchCount = runner.batches(probes).count
        var partials = [[(text: Int, rows: [Double])]](repeating: [], count: batchCount)
        var ran = true
        // Scratch per thread: the batch's texts' P(x) − P(r) [rows × D × width], then one
        // text's embedding rows [longest × E].
        try reference.withUnsafeBufferPointer { referenceBuffer in
            let pr = referenceBuffer.baseAddress!
            try partials.withUnsafeMutableBufferPointer { partials in
                try runner.runBatches(probes, model: model, threads: threads,
                                      workerFloats: { $0.rows * block + $0.longest * e }) { index, batch, ws, scratch in
                    let texts = runner.texts
                    ws.batch.pack(batch.lazy.map { texts[probes[$0].text].ids[...] })
                    // Each text of the batch once: its block of differences [D][L][width] at base.
                    var bases = [(text: Int, base: Int)](), used = 0
                    for p in batch where bases.last?.text != probes[p].text {
                        let t = texts[probes[p].text], length = t.ids.count
                        let embedded = scratch + ws.batch.totalRows * block
                        for r in 0..<length { (embedded + r * e).update(from: runner.row(t, r), count: e) }
                        for d in 0..<directions {
                            let out = scratch + used + d * length * width
                            encoder.fillInputTable(params, embeddings: embedded, direction: d, words: 0..<length, into: out)
                            for r in 0..<length {
                                let row = out + r * width, ref = pr + d * width
                                for j in 0..<width { row[j] -= ref[j] }
                            }
                        }
                        bases.append((probes[p].text, used))
                        used += length * block
                    }
                    var baseOf = [Int](repeating: 0, count: batch.count)
                    var k = 0
                    for (b, p) in batch.enumerated() {
                        while bases[k].text != probes[p].text { k += 1 }
                        baseOf[b] = bases[k].base
                    }
                    let offsets = ws.batch.stepOffsets
                    let filled = network.forward(params, workspace: ws) { d, out in
                        let ref = pr + d * width
                        for (b, p) in batch.enumerated() {
                            let length = texts[probes[p].text].ids.count, alpha = probes[p].fill.alpha
                            let diffs = scratch + baseOf[b] + d * length * width
                            for step in 0..<length {
                                let row = out + (offsets[step] + b) * width
                                let diff = diffs + (d == 1 ? length - 1 - step : step) * width
                                for j in 0..<width { row[j] = ref[j] + alpha * diff[j] }
                            }
                        }
                    }
                    guard filled else { ran = false; return }
                    let outputs = network.outputs(ws), dLogits = network.logitGradient(ws)
                    for (b, p) in batch.enumerated() {
                        f.gradient(outputs: outputs + b * c, target: targets[probes[p].text], into: dLogits + b * c)
                    }
                    var sums = [(text: Int, rows: [Double])]()
                    var sumOf = [Int](repeating: 0, count: batch.count)
                    for (b, p) in batch.enumerated() {
                        let text = probes[p].text
                        if sums.last?.text != text { sums.append((text, [Double](repeating: 0, count: texts[text].ids.count))) }
                        sumOf[b] = sums.count - 1
                    }
                    _ = network.backwardFromLogits(params, workspace: ws) { d, dProjected in
                        for (b, p) in batch.enumerated() {
                            let length = texts[probes[p].text].ids.count, weight = probes[p].weight
                            let diffs = scratch + baseOf[b] + d * length * width
                            for step in 0..<length {
                                let g = dProjected + (offsets[step] + b) * width
                                let token = d == 1 ? length - 1 - step : step
                                let diff = diffs + token * width
                                sums[sumOf[b]].rows[token] += weight * Explainer.dot(diff, g, width)
                            }
                        }
                    }
                    partials[index] = sums
                }
            }
        }
        guard ran else { return nil }
        var scores = runner.texts.map { [Double](repeating: 0, count: $0.ids.count) }
        for batch in partials {
            for (text, rows) in batch {
                for r in rows.indices { scores[text][r] += rows[r] }
            }
        }
        return scores
    }
}

extension Explainer {
    /// Σⱼ a[j] b[j] in Double, over four interleaved sums (a fixed order, so the same on
    /// every CPU and thread count) that the compiler can keep in vector registers.
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Double {
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0, j = 0
        while j + 4 <= n {
            s0 += Double(a[j]) * Double(b[j])
            s1 += Double(a[j + 1]) * Double(b[j + 1])
            s2 += Double(a[j + 2]) * Double(b[j + 2])
            s3 += Double(a[j + 3]) * Double(b[j + 3])
            j += 4
        }
        while j < n {
            s0 += Double(a[j]) * Double(b[j])
            j += 1
        }
        return (s0 + s1) + (s2 + s3)
    }
}

extension Probe.Fill {
    /// α of a path point (0 for an occlusion).
    var alpha: Float {
        if case .path(let alpha) = self { return alpha }
        return 0
    }
}
