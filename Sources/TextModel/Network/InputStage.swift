import CKernels

/// The first stage of a network: the table `embedding.weight` [V × E] looked up by
/// feature id.
///
///   embedding     every token's row, [N × E], for an encoder to read (CNN, recurrent,
///                 Transformer)
///   embeddingBag  each text's mean row, [B × E], summed straight from the table (as
///                 PyTorch's EmbeddingBag(mode: "mean")): the bag model, whose ids are
///                 words and hashed word/character n-grams. It never copies the [N × E]
///                 rows, which was a third of a bag prediction's time; the same sums
///                 as `embedding` followed by mean pooling, to the bit.
struct InputStage {
    enum Kind { case embedding, embeddingBag }

    let kind: Kind
    let table: ParameterLayout.Tensor
    var rows: Int { table.shape[0] }
    var dim: Int { table.shape[1] }

    init(kind: Kind, rows: Int, dim: Int, layout: inout ParameterLayout) {
        self.kind = kind
        table = layout.add("embedding.weight", [rows, dim])
    }

    func initialize(_ params: UnsafeMutablePointer<Float>, _ scheme: EmbeddingInitialization, rng: inout SeededGenerator) {
        let p = params + table.offset
        switch scheme {
        case .uniform(let bound):
            for k in 0..<table.count { p[k] = rng.uniform(-bound, bound) }
        case .normal(let sigma):
            rng.fillNormal(p, count: table.count, sigma: sigma)
        }
    }

    /// embedded [N × E] = the rows of the batch's ids.
    func embed(_ pass: Pass, into embedded: UnsafeMutablePointer<Float>) {
        pass.batch.tokens.withUnsafeBufferPointer { ids in
            if let base = ids.baseAddress {
                Embedding.forward(table: pass.params + table.offset, dim: dim, ids: base, count: ids.count, out: embedded)
            }
        }
    }

    /// features [B × E] = each text's mean row, in token order (an empty text: zeros).
    func bagMean(_ pass: Pass, into features: UnsafeMutablePointer<Float>) {
        let e = dim, batch = pass.batch, rows = pass.params + table.offset
        // The batch's arrays read once, as buffers: reading them through the class for
        // every token cost an exclusivity check each.
        batch.tokens.withUnsafeBufferPointer { ids in
            batch.stepOffsets.withUnsafeBufferPointer { offsets in
                batch.lengths.withUnsafeBufferPointer { lengths in
                    guard let idBase = ids.baseAddress, let offsetBase = offsets.baseAddress else {
                        features.update(repeating: 0, count: lengths.count * e)   // every text is empty
                        return
                    }
                    for b in 0..<lengths.count {
                        if InputStage.avx2 {
                            tm_bag_mean_avx2(rows, e, idBase, offsetBase, b, lengths[b], InputStage.prefetchDistance, features + b * e)
                        } else {
                            InputStage.bagMean(rows: rows, dim: e, ids: idBase, offsets: offsetBase, text: b, length: lengths[b],
                                               into: features + b * e)
                        }
                    }
                }
            }
        }
    }

    /// One text's mean row: the loop tm_bag_mean_avx2 runs 8 lanes at a time (the same
    /// adds in the same order, so the same floats).
    static func bagMean(rows: UnsafePointer<Float>, dim e: Int, ids: UnsafePointer<Int32>, offsets: UnsafePointer<Int>,
                        text b: Int, length: Int, into out: UnsafeMutablePointer<Float>) {
        let ahead = prefetchDistance
        out.update(repeating: 0, count: e)
        guard length > 0 else { return }
        for t in 0..<min(ahead, length) { tm_prefetch_row(rows + Int(ids[offsets[t] + b]) * e, 4 * e) }
        for t in 0..<length {
            if t + ahead < length { tm_prefetch_row(rows + Int(ids[offsets[t + ahead] + b]) * e, 4 * e) }
            let row = rows + Int(ids[offsets[t] + b]) * e
            for j in 0..<e { out[j] += row[j] }
        }
        let scale = 1 / Float(length)
        for j in 0..<e { out[j] *= scale }
    }

    static let avx2 = tm_kernels_avx2() != 0

    /// Adds dEmbedded [N × E] into the gradient rows of the batch's ids.
    func backward(_ pass: Pass, dEmbedded: UnsafePointer<Float>, grads: UnsafeMutablePointer<Float>) {
        pass.batch.tokens.withUnsafeBufferPointer { ids in
            if let base = ids.baseAddress {
                Embedding.backward(dOut: dEmbedded, dim: dim, ids: base, count: ids.count, dTable: grads + table.offset)
            }
        }
    }

    /// How many tokens ahead the row sums ask for rows (tm_prefetch_row): far enough
    /// for a row to arrive from memory while the rows before it are added.
    /// 8 rather than 4: one-text calls of the tweets bag model ran 5–7% less CPU time
    /// per call (bench/RESULTS.md, latency-16b), with all rows ahead no better.
    static let prefetchDistance = 8

    /// The same for the int8 table, whose 100-byte rows are 2–3 cache lines against the
    /// f32 table's 7: more rows ahead keep as many lines on their way, and its longer
    /// sum per row (widen, convert, multiply, add) leaves more time for them to arrive.
    static let int8PrefetchDistance = 16
}
