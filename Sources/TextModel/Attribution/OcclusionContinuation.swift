/// Occlusion of a unidirectional LSTM by `<unk>`, each variant run only from its first
/// occluded token on (RecurrentEncoder+Continuation): per batch, the batch's texts run
/// once as they are, their every layer's states and running pooled values are kept, and
/// each variant starts from its text's states one step before its window. A text of L
/// tokens then costs about L²/2 steps instead of L². Nil when the model does not fit
/// (not a one-direction LSTM, or no inference table), and the caller runs the variants
/// whole.
extension Explainer {
    func continuedOcclusion(_ runner: ProbeRunner, probes: [Probe], ids: [[Int32]], values: [Double], targets: [Int],
                            target f: TargetOutput, threads: Int) throws -> [Double]? {
        let network = runner.network, params = runner.params, c = network.classes
        guard let encoder = network.encoder as? RecurrentEncoder, encoder.continuesSequences,
              let table = model.inputTable(tokens: ids.reduce(0) { $0 + $1.count }, threads: threads),
              table.width == 4 * encoder.hiddenDim else { return nil }
        let h = encoder.hiddenDim, layers = encoder.layers, pooling = encoder.pooling
        let perRow = (2 * layers + 1) * h
        func start(_ p: Int) -> Int {
            if case .occluded(let window) = probes[p].fill { return window.lowerBound }
            return 0
        }
        var drops = [Double](repeating: 0, count: probes.count)
        try drops.withUnsafeMutableBufferPointer { drops in
            // Scratch: per text of the batch [layers][h, c][L × H] then running pooled [L × H];
            // then the variants' initial states [layers][h, c][B × H] and prefixes [B × H].
            try runner.runBatches(probes, model: model, threads: threads,
                                  workerFloats: { $0.rows * perRow + $0.texts * perRow }) { _, batch, ws, scratch in
                let texts = runner.texts
                var textList = [Int]()
                for p in batch where textList.last != probes[p].text { textList.append(probes[p].text) }
                ws.batch.pack(textList.lazy.map { texts[$0].ids[...] })
                network.forward(params, workspace: ws, inputTable: table)
                var bases = [Int](), used = 0
                let offsets = ws.batch.stepOffsets
                for (k, text) in textList.enumerated() {
                    let length = texts[text].ids.count, store = scratch + used
                    bases.append(used)
                    for l in 0..<layers {
                        let s = encoder.lstmStates(ws, layer: l)
                        for t in 0..<length {
                            let row = offsets[t] + k
                            (store + ((2 * l) * length + t) * h).update(from: s.hidden + row * h, count: h)
                            (store + ((2 * l + 1) * length + t) * h).update(from: s.cells + row * h, count: h)
                        }
                    }
                    encoder.runningPooled(ws, batch: ws.batch, sequence: k, into: store + 2 * layers * length * h)
                    used += length * perRow
                }

                let order = batch.sorted { a, b in
                    let la = ids[a].count - start(a), lb = ids[b].count - start(b)
                    return la != lb ? la > lb : a < b
                }
                let n = order.count, states = scratch + used
                let prefix = states + 2 * layers * n * h
                var hasPrefix = [Bool](), lengths = [Int]()
                for (b, p) in order.enumerated() {
                    let text = probes[p].text, k = textList.firstIndex(of: text) ?? 0
                    let length = texts[text].ids.count, s = start(p), store = scratch + bases[k]
                    hasPrefix.append(s > 0)
                    lengths.append(length)
                    for l in 0..<layers {
                        let hOut = states + ((2 * l) * n + b) * h, cOut = states + ((2 * l + 1) * n + b) * h
                        if s > 0 {
                            hOut.update(from: store + ((2 * l) * length + s - 1) * h, count: h)
                            cOut.update(from: store + ((2 * l + 1) * length + s - 1) * h, count: h)
                        } else {
                            hOut.update(repeating: 0, count: h)
                            cOut.update(repeating: 0, count: h)
                        }
                    }
                    if s > 0 && pooling != .last {
                        (prefix + b * h).update(from: store + (2 * layers * length + s - 1) * h, count: h)
                    } else {
                        (prefix + b * h).update(repeating: 0, count: h)
                    }
                }
                ws.batch.pack(order.lazy.map { ids[$0][start($0)...] })
                let initial = (0..<layers).map { l in
                    LSTMLayer.State(hidden: states + (2 * l) * n * h, cells: states + (2 * l + 1) * n * h)
                }
                let pass = Pass(params: params, batch: ws.batch, workspace: ws)
                encoder.forwardContinuing(pass, table: table, initial: initial, prefix: prefix, hasPrefix: hasPrefix,
                                          lengths: lengths, features: ws[network.buffers.features])
                network.head(pass)
                let z = ws[network.buffers.logits], outputs = network.outputs(ws)
                for (b, p) in order.enumerated() {
                    let text = probes[p].text
                    drops[p] = values[text] - f.value(logits: z + b * c, outputs: outputs + b * c, target: targets[text])
                }
            }
        }
        return drops
    }
}
