import CKernels

/// Compresses a trained bag model as fastText's `quantize` does, into a new model whose
/// input stage is a QuantizedBagInput (model-file format 4):
///
/// 1. candidates: every embedding row (words and n-gram buckets), less the rows that
///    training never changed (`pruneUntouched`: bit for bit their seeded initial
///    values, recomputed here; buckets no training text reached), which fastText keeps;
/// 2. cutoff: of those, the `cutoff` rows of largest L2 norm (fastText's ranking);
/// 3. product quantization of the kept rows (`dsub`, 256 centroids per sub-space,
///    k-means on a sample), with `qnorm` the unit rows and their norms apart;
/// 4. `retrain`: the output layer alone, by SGD on the compressed features of the
///    training texts (the input is frozen, so each text's features are computed once).
///
/// The output layer stays f32 (C × E floats: a few kB for a classifier).
struct BagQuantizer {
    let options: QuantizeOptions

    func quantize(_ model: TrainedModel, training data: LabelledTexts?) throws -> TrainedModel {
        let config = model.config
        guard config.model.type == .bag else {
            throw TextModelError.invalidArgument("quantize applies to bag models only; this model's model.type is \"\(config.model.type.rawValue)\"")
        }
        guard model.network.quantizedInput == nil else {
            throw TextModelError.invalidArgument("this model is already quantized: quantize the f32 model it came from")
        }
        let e = config.model.embeddingDim
        try options.validate(embeddingDim: e)
        if options.retrain {
            guard let data = data, data.count > 0 else {
                throw TextModelError.invalidArgument("retrain needs training data (texts and labels)")
            }
        }
        let network = model.network, rows = network.input.rows
        let table = UnsafePointer(model.parameters.pointer + network.input.table.offset)
        let kept = try keptRows(table: table, rows: rows, dim: e, model: model)
        guard !kept.isEmpty else {
            throw TextModelError.invalidArgument("no embedding row is left to keep (training changed none)")
        }
        let (vocabulary, ids) = try BagQuantizer.prunedVocabulary(model.vocabulary, kept: kept)
        let input = try compress(table: table, rows: vocabulary.count + config.tokenizer.hashedFeatures, kept: kept, ids: ids, dim: e)
        let compressed = NetworkBuilder.quantizedBag(config: config, classes: network.classes, input: input)
        let parameters = try FloatBuffer.allocate(count: compressed.layout.count, what: "the compressed model's output layer")
        for (from, to) in [(network.outputWeight, compressed.outputWeight), (network.outputBias, compressed.outputBias)] {
            (parameters.pointer + to.offset).update(from: model.parameters.pointer + from.offset, count: from.count)
        }
        let result = TrainedModel(config: config, vocabulary: vocabulary, labels: model.labels, scaling: model.scaling,
                                  network: compressed, parameters: parameters)
        if options.retrain, let data = data {
            // Retraining on (possibly private) rows is not covered by the original ε: the
            // compressed model then carries no privacy record.
            try retrainOutput(result, data)
        } else {
            result.privacy = model.privacy   // compression alone is post-processing: ε holds
        }
        return result
    }

    /// The ids of the rows to keep, increasing.
    private func keptRows(table: UnsafePointer<Float>, rows: Int, dim e: Int, model: TrainedModel) throws -> [Int32] {
        let untouched = options.pruneUntouched && model.config.model.pretrainedVectors == nil
            ? BagQuantizer.untouchedRows(table: table, rows: rows, dim: e, model: model, threads: options.threads) : nil
        let ids = (0..<rows).filter { !(untouched?[$0] ?? false) }.map { Int32($0) }
        guard options.cutoff > 0 && ids.count > options.cutoff else { return ids }   // no ranking needed
        var candidates = ids.map { id -> (norm: Float, id: Int32) in
            var sum: Float = 0
            let row = table + Int(id) * e
            for j in 0..<e { sum += row[j] * row[j] }
            return (sum.squareRoot(), id)
        }
        candidates.sort { $0.norm != $1.norm ? $0.norm > $1.norm : $0.id < $1.id }
        candidates.removeLast(candidates.count - options.cutoff)
        return candidates.map(\.id).sorted()
    }

    /// Per row, whether it still equals the value Trainer's seeded initialisation gave
    /// it (Network.initialize draws the table first, row by row, from training.seed, one
    /// draw per value). Each thread redraws its own range of rows from the generator
    /// advanced to that range's first draw: the same values as one thread. With AVX2
    /// (`vectorized`) a thread's range is cut in four, redrawn side by side.
    /// A thread takes at least `minimumRowsEach` rows (tests lower it).
    static func untouchedRows(table: UnsafePointer<Float>, rows: Int, dim e: Int, model: TrainedModel,
                              threads: Int = 1, minimumRowsEach: Int = 65_536, vectorized: Bool = true) -> [Bool]? {
        guard case .uniform(let bound) = model.network.encoder.embeddingInitialization else { return nil }
        let start = SeededGenerator(seed: model.config.training.seed)
        var untouched = [Bool](repeating: true, count: rows)
        let workers = Parallel.workers(threads: threads, items: rows, minimumEach: minimumRowsEach)
        let share = (rows + workers - 1) / max(workers, 1)
        let lanes = vectorized && tm_kernels_avx2() != 0 ? 4 : 1
        untouched.withUnsafeMutableBufferPointer { buffer in
            guard let out = buffer.baseAddress else { return }
            Parallel.forEach(workers, workers: workers) { w, _ in
                let first = w * share, end = min(rows, first + share)
                guard first < end else { return }
                func generator(at row: Int) -> SeededGenerator { start.advanced(by: UInt64(row) * UInt64(e)) }
                var tail = first
                let each = (end - first) / lanes
                if lanes == 4, each > 0 {
                    let starts = (0..<4).map { first + $0 * each }
                    let states = starts.map { generator(at: $0).state }
                    var words = (0..<16).map { states[$0 % 4][$0 / 4] }   // word w of lane l at 4w + l
                    let rowPointers: [UnsafePointer<Float>?] = starts.map { table + $0 * e }
                    out.withMemoryRebound(to: UInt8.self, capacity: rows) { bytes in
                        let outPointers: [UnsafeMutablePointer<UInt8>?] = starts.map { bytes + $0 }
                        tm_untouched_rows4_avx2(&words, rowPointers, each, e, -bound, bound, outPointers)
                    }
                    tail = first + 4 * each
                }
                guard tail < end else { return }
                var rng = generator(at: tail)
                for r in tail..<end {
                    let row = table + r * e
                    var same = true
                    for j in 0..<e where rng.uniform(-bound, bound) != row[j] { same = false }
                    out[r] = same
                }
            }
        }
        return untouched
    }

    /// The kept rows, product-quantized (with qnorm: unit rows and quantized norms).
    /// The vocabulary of the kept words alone (with <pad> and <unk>, in their order) and
    /// the kept rows' ids in it: a word whose row was dropped becomes an unknown word, as
    /// a pruned word is out of fastText's dictionary; n-gram ids move down by the words
    /// removed (their hashes come from the tokens' text, not from word ids).
    static func prunedVocabulary(_ vocabulary: Vocabulary, kept: [Int32]) throws -> (Vocabulary, [Int32]) {
        let oldCount = Int32(vocabulary.count)
        var tokens = [Vocabulary.paddingToken, Vocabulary.unknownToken]
        var newID = [Int32: Int32]()
        newID[Vocabulary.paddingID] = Vocabulary.paddingID
        newID[Vocabulary.unknownID] = Vocabulary.unknownID
        for id in kept where id < oldCount && id > Vocabulary.unknownID {
            newID[id] = Int32(tokens.count)
            tokens.append(vocabulary.tokens[Int(id)])
        }
        let shift = oldCount - Int32(tokens.count)
        return (try Vocabulary(tokens: tokens), kept.map { $0 < oldCount ? newID[$0] ?? $0 : $0 - shift })
    }

    /// Rows `kept` of the table (old ids), product-quantized, stored under `ids`.
    private func compress(table: UnsafePointer<Float>, rows: Int, kept: [Int32], ids: [Int32], dim e: Int) throws -> QuantizedBagInput {
        let k = kept.count
        let gathered = try FloatBuffer.allocate(count: k * e, what: "the kept embedding rows")
        var norms = [Float](repeating: 0, count: k)
        for (i, id) in kept.enumerated() {
            let out = gathered.pointer + i * e
            out.update(from: table + Int(id) * e, count: e)
            if options.qnorm {
                var sum: Float = 0
                for j in 0..<e { sum += out[j] * out[j] }
                norms[i] = sum.squareRoot()
                if norms[i] > 0 { for j in 0..<e { out[j] /= norms[i] } }
            }
        }
        let training = ProductQuantizer.Training(iterations: options.iterations, sampleRows: options.sampleRows,
                                                 seed: options.seed, threads: options.threads)
        let nk = min(ProductQuantizer.maxCentroids, k)
        var normBook: [Float]? = nil, normCodes: [UInt8]? = nil
        // Every kept norm, not a sample: the few large norms (frequent words) are the
        // ones that matter, and a sample misses them (tweets, no cutoff: 0.7672 with all
        // norms, 0.7584 with 16,384). Their 1-d k-means runs beside the sub-spaces'.
        let clusterNorms = {
            var book = [Float](repeating: 0, count: nk)
            var rng = SeededGenerator(seed: self.options.seed ^ 0x4E4F_524D)
            norms.withUnsafeBufferPointer { n in
                book.withUnsafeMutableBufferPointer { b in
                    KMeans.cluster(points: n.baseAddress!, count: k, dim: 1, k: nk, iterations: self.options.iterations,
                                   rng: &rng, centroids: b.baseAddress!)
                }
            }
            normBook = book
        }
        let pq = ProductQuantizer.train(rows: gathered.pointer, count: k, dim: e, dsub: options.dsub, options: training,
                                        alongside: options.qnorm ? clusterNorms : nil)
        var codes = [UInt8](repeating: 0, count: k * pq.subspaces)
        codes.withUnsafeMutableBufferPointer { pq.encode(rows: gathered.pointer, count: k, into: $0.baseAddress!, threads: options.threads) }
        if let book = normBook {
            normCodes = book.withUnsafeBufferPointer { b in
                norms.withUnsafeBufferPointer { n in
                    (0..<k).map { UInt8(KMeans.nearest(n.baseAddress! + $0, centroids: b.baseAddress!, k: nk, dim: 1)) }
                }
            }
        }
        return QuantizedBagInput(rows: rows, keptIDs: ids, quantizer: pq,
                                 codes: codes, normCodebook: normBook, normCodes: normCodes)
    }

    /// SGD on the output layer alone: each training text's features are its compressed
    /// bag mean, computed once; examples in a seeded shuffled order each epoch, the rate
    /// decaying linearly from learningRate to 0 over all steps (the bag recipe).
    private func retrainOutput(_ model: TrainedModel, _ data: LabelledTexts) throws {
        let network = model.network, c = network.classes, e = network.encoder.featureDim
        var targets = try Targets(task: model.task, labels: data.labels, labelIDs: model.labelIDs, width: model.width,
                                  separator: model.config.data.labelSeparator, what: "the retraining data",
                                  knownLabels: model.labels)
        if model.task == .regression { targets.standardize(model.scaling) }
        let n = data.count
        let features = try FloatBuffer.allocate(count: n * e, what: "the features of \(n) retraining texts")
        try model.features(of: data.texts, into: features.pointer, threads: options.threads)
        let weight = model.parameters.pointer + network.outputWeight.offset
        let bias = model.parameters.pointer + network.outputBias.offset
        var logits = [Float](repeating: 0, count: c), outputs = logits, dLogits = logits
        var order = Array(0..<n)
        var rng = SeededGenerator(seed: options.seed ^ 0x5245_5452)
        let total = Double(options.epochs * n)
        var step = 0
        try targets.classes.withUnsafeBufferPointer { classes in
            try targets.values.withUnsafeBufferPointer { values in
                for _ in 0..<options.epochs {
                    rng.shuffle(&order)
                    for i in order {
                        let lr = Float(options.learningRate * max(0, 1 - Double(step) / total))
                        step += 1
                        let f = features.pointer + i * e
                        for k in 0..<c {
                            var z = bias[k]
                            let w = weight + k * e
                            for j in 0..<e { z += w[j] * f[j] }
                            logits[k] = z
                        }
                        let lossTargets = LossTargets(targets: classes.baseAddress.map { $0 + i },
                                                      values: values.baseAddress.map { $0 + i * c })
                        network.loss.activate(logits: logits, rows: 1, width: c, outputs: &outputs)
                        network.loss.backward(outputs: outputs, rows: 1, width: c, targets: lossTargets, dLogits: &dLogits)
                        for k in 0..<c {
                            let g = lr * dLogits[k]
                            guard g != 0 else { continue }
                            let w = weight + k * e
                            for j in 0..<e { w[j] -= g * f[j] }
                            bias[k] -= g
                        }
                    }
                }
                for k in 0..<(c * e) where !weight[k].isFinite {
                    throw TextModelError(.diverged, "retraining the output layer diverged (a weight became \(weight[k])): lower the learning rate")
                }
            }
        }
    }
}
