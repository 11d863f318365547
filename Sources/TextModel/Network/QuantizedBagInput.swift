import CKernels

/// The bag model's input stage after compression (`Model.quantized`, model-file format
/// 4): only the kept rows of `embedding.weight`, each product-quantized, looked up by
/// feature id through a hash table of the kept ids. A text's features are the mean of
/// its kept features' decoded rows, decoded on the fly (the [rows × E] matrix is never
/// rebuilt); a feature whose row was dropped contributes nothing and is not counted,
/// as in fastText's pruned dictionary (a text with no kept feature: zeros).
///
///   keptIDs      [K]               feature ids whose rows were kept, increasing, < rows
///   quantizer    codebooks [M × ksub × dsub], M · dsub = E
///   codes        [K × M]           each kept row's sub-vector codes
///   norms        (qnorm) codebook [nk] and codes [K]: rows are stored unit-length and
///                scaled by their quantized norm
struct QuantizedBagInput {
    let rows: Int
    let keptIDs: [Int32]
    let quantizer: ProductQuantizer
    let codes: [UInt8]
    let normCodebook: [Float]?
    let normCodes: [UInt8]?
    /// Open addressing over the kept ids, pairs (feature id, index into keptIDs) so a
    /// probe reads one cache line; an empty slot has index -1.
    private let slots: [Int32]
    private let shift: Int

    var dim: Int { quantizer.dim }
    var kept: Int { keptIDs.count }

    init(rows: Int, keptIDs: [Int32], quantizer: ProductQuantizer, codes: [UInt8], normCodebook: [Float]?, normCodes: [UInt8]?) {
        self.rows = rows
        self.keptIDs = keptIDs
        self.quantizer = quantizer
        self.codes = codes
        self.normCodebook = normCodebook
        self.normCodes = normCodes
        var bits = 4
        while (1 << bits) < 2 * max(keptIDs.count, 1) { bits += 1 }
        shift = 64 - bits
        var slots = [Int32](repeating: -1, count: 2 << bits)
        let mask = (1 << bits) - 1
        for (index, id) in keptIDs.enumerated() {
            var s = QuantizedBagInput.hash(id, shift: 64 - bits)
            while slots[2 * s + 1] >= 0 { s = (s + 1) & mask }
            slots[2 * s] = id
            slots[2 * s + 1] = Int32(index)
        }
        self.slots = slots
    }

    @inline(__always)
    private static func hash(_ id: Int32, shift: Int) -> Int {
        Int(truncatingIfNeeded: (UInt64(UInt32(bitPattern: id)) &* 0x9E37_79B9_7F4A_7C15) >> UInt64(shift))
    }

    /// The index of feature `id` among the kept rows, or nil when its row was dropped.
    func index(of id: Int32) -> Int? {
        slots.withUnsafeBufferPointer { slots in lookup(id, slots.baseAddress!, slots.count / 2 - 1) }
    }

    @inline(__always)
    private func lookup(_ id: Int32, _ slots: UnsafePointer<Int32>, _ mask: Int) -> Int? {
        var s = QuantizedBagInput.hash(id, shift: shift)
        while true {
            let index = slots[2 * s + 1]
            if index < 0 { return nil }
            if slots[2 * s] == id { return Int(index) }
            s = (s + 1) & mask
        }
    }

    /// features [B × E] = each text's mean decoded row over its kept features.
    /// Nearly every feature's slot and code row is a cache miss: the slot `ahead`
    /// tokens on and the code row of the feature found are prefetched, and a row is
    /// added once the next one has been looked up (the same rows in the same order).
    func bagMean(_ pass: Pass, into features: UnsafeMutablePointer<Float>) {
        let e = dim, batch = pass.batch, m = quantizer.subspaces, dsub = quantizer.dsub, ksub = quantizer.ksub
        let normKsub = normCodebook?.count ?? 0
        let ahead = 4, kernel = dsub == 2 && QuantizedBagInput.avx2
        slots.withUnsafeBufferPointer { slotBuffer in
        codes.withUnsafeBufferPointer { codeBuffer in
        quantizer.codebooks.withUnsafeBufferPointer { books in
        (normCodebook ?? []).withUnsafeBufferPointer { normBook in
        (normCodes ?? []).withUnsafeBufferPointer { normCode in
        batch.tokens.withUnsafeBufferPointer { ids in
            let slots = slotBuffer.baseAddress!, mask = slotBuffer.count / 2 - 1
            let codes = codeBuffer.baseAddress!, books = books.baseAddress!
            func add(_ index: Int, into out: UnsafeMutablePointer<Float>) {
                let weight: Float = normKsub > 0 ? normBook[Int(normCode[index])] : 1
                if kernel {
                    tm_pq2_add_row_avx2(codes + index * m, books, m, ksub, weight, out)
                } else {
                    ProductQuantizer.addDecoded(codes + index * m, codebooks: books, subspaces: m, dsub: dsub, ksub: ksub,
                                                weight: weight, into: out)
                }
            }
            for b in 0..<batch.size {
                let out = features + b * e, length = batch.lengths[b]
                out.update(repeating: 0, count: e)
                for t in 0..<min(ahead, length) { prefetchSlot(ids[batch.stepOffsets[t] + b], slots) }
                var used = 0, pending = -1
                for t in 0..<length {
                    if t + ahead < length { prefetchSlot(ids[batch.stepOffsets[t + ahead] + b], slots) }
                    guard let index = lookup(ids[batch.stepOffsets[t] + b], slots, mask) else { continue }
                    tm_prefetch_row(codes + index * m, m)
                    if pending >= 0 { add(pending, into: out) }
                    pending = index
                    used += 1
                }
                if pending >= 0 { add(pending, into: out) }
                guard used > 0 else { continue }
                let scale = 1 / Float(used)
                for j in 0..<e { out[j] *= scale }
            }
        }}}}}}
    }

    private static let avx2 = tm_kernels_avx2() != 0

    @inline(__always)
    private func prefetchSlot(_ id: Int32, _ slots: UnsafePointer<Int32>) {
        tm_prefetch_row(slots + 2 * QuantizedBagInput.hash(id, shift: shift), 8)
    }

    /// The decoded row of kept row `index` into out [E].
    func decodedRow(_ index: Int, into out: UnsafeMutablePointer<Float>) {
        codes.withUnsafeBufferPointer { c in quantizer.decode(c.baseAddress! + index * quantizer.subspaces, into: out) }
        if let book = normCodebook, let norms = normCodes {
            let w = book[Int(norms[index])]
            for j in 0..<dim { out[j] *= w }
        }
    }

    /// Bytes of the compressed table in a model file (ids, codes, codebooks, norms).
    var storedBytes: Int {
        keptIDs.count * 4 + codes.count + quantizer.codebooks.count * 4 + (normCodebook?.count ?? 0) * 4 + (normCodes?.count ?? 0)
    }
}

extension NetworkBuilder {
    /// The network of a compressed bag model: the bag's, with no table rows in its
    /// layout (only output.weight and output.bias hold weights) and `input` as its
    /// quantizedInput.
    static func quantizedBag(config: Config, classes: Int, input: QuantizedBagInput) -> Network {
        let e = input.dim
        var network = Network(input: .embeddingBag, rows: 0, embeddingDim: e, classes: classes, task: config.model.task) { _, _ in
            MeanEncoder(dim: e)
        }
        network.quantizedInput = input
        return network
    }
}
