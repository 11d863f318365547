/// Product quantization of a matrix's rows (as fastText's `quantize`): a row of width
/// D is cut into M = D / dsub sub-vectors, and each is stored as the one-byte index of
/// its nearest centroid among the `ksub` (≤ 256) that k-means learnt for its sub-space.
///
///   codebooks  [M × ksub × dsub]  the centroids of every sub-space
///   codes      [N × M]            one byte per sub-vector of every row
///
/// A decoded row is the concatenation of its sub-vectors' centroids.
struct ProductQuantizer {
    let dim: Int
    let dsub: Int
    let ksub: Int
    let codebooks: [Float]
    var subspaces: Int { dim / dsub }

    /// Most centroids per sub-space: what one byte indexes.
    static let maxCentroids = 256

    /// How k-means is run: `sampleRows` rows at most (drawn from the seed; fastText
    /// also trains on a sample), `iterations` Lloyd steps at most.
    struct Training {
        var iterations = 25
        var sampleRows = 65_536
        var seed: UInt64 = 1
        var threads = 0
    }

    init(dim: Int, dsub: Int, ksub: Int, codebooks: [Float]) {
        self.dim = dim
        self.dsub = dsub
        self.ksub = ksub
        self.codebooks = codebooks
    }

    /// Learns the codebooks of `count` rows [count × dim]; dsub divides dim, count > 0.
    /// Each sub-space has its own generator (seed, sub-space), so the result does not
    /// depend on the thread count. `alongside`, when given, runs on the same threads as
    /// one more piece of work, started first (BagQuantizer: the norms' k-means, longer
    /// than any one sub-space's), so no thread waits for it alone.
    static func train(rows: UnsafePointer<Float>, count: Int, dim: Int, dsub: Int, options: Training,
                      alongside: (() -> Void)? = nil) -> ProductQuantizer {
        let m = dim / dsub
        let ksub = min(maxCentroids, count)
        var sampleRNG = SeededGenerator(seed: options.seed)
        var sample = Array(0..<count)
        let n = min(count, max(options.sampleRows, ksub))
        if n < count {
            for i in 0..<n { sample.swapAt(i, i + Int(sampleRNG.next() % UInt64(count - i))) }
            sample.removeLast(count - n)
        }
        // The sampled rows side by side: each sub-space then reads them in order rather
        // than gathering them again from the whole matrix.
        var sampled = [Float](repeating: 0, count: n * dim)
        sampled.withUnsafeMutableBufferPointer { out in
            for (i, r) in sample.enumerated() { (out.baseAddress! + i * dim).update(from: rows + r * dim, count: dim) }
        }
        var codebooks = [Float](repeating: 0, count: m * ksub * dsub)
        let first = alongside == nil ? 0 : 1
        codebooks.withUnsafeMutableBufferPointer { books in
            sampled.withUnsafeBufferPointer { sampled in
                let base = books.baseAddress!, sampled = sampled.baseAddress!
                Parallel.forEach(m + first, workers: Parallel.threads(options.threads)) { item, _ in
                    if item < first { alongside?(); return }
                    let s = item - first
                    var points = [Float](repeating: 0, count: n * dsub)
                    for i in 0..<n {
                        for j in 0..<dsub { points[i * dsub + j] = sampled[i * dim + s * dsub + j] }
                    }
                    var rng = SeededGenerator(seed: options.seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(s + 1))
                    points.withUnsafeBufferPointer { p in
                        KMeans.cluster(points: p.baseAddress!, count: n, dim: dsub, k: ksub, iterations: options.iterations,
                                       rng: &rng, centroids: base + s * ksub * dsub)
                    }
                }
            }
        }
        return ProductQuantizer(dim: dim, dsub: dsub, ksub: ksub, codebooks: codebooks)
    }

    /// codes [count × M] of rows [count × dim]: each sub-vector's nearest centroid.
    func encode(rows: UnsafePointer<Float>, count: Int, into codes: UnsafeMutablePointer<UInt8>, threads: Int) {
        let m = subspaces, chunk = 4096
        codebooks.withUnsafeBufferPointer { books in
            let base = books.baseAddress!
            // Pairs: each sub-space's centroids sorted once, searched a sub-space at a time.
            let planes = dsub == 2 ? (0..<m).compactMap { PlaneCentroids(base + $0 * ksub * 2, k: ksub) } : []
            Parallel.forEach((count + chunk - 1) / chunk, workers: Parallel.threads(threads)) { c, _ in
                let first = c * chunk, rowsHere = min(count, first + chunk) - first
                if planes.count == m, m > 0 {
                    // 256 rows at a time (100 kB at dim 100), read once per sub-space from L2.
                    let part = 256
                    var found = [Int32](repeating: 0, count: part)
                    found.withUnsafeMutableBufferPointer { f in
                        for start in stride(from: first, to: first + rowsHere, by: part) {
                            let n = min(part, first + rowsHere - start)
                            for s in 0..<m {
                                planes[s].nearest(points: rows + start * dim + s * 2, stride: dim, count: n,
                                                  centroids: base + s * ksub * 2, into: f.baseAddress!)
                                for i in 0..<n { codes[(start + i) * m + s] = UInt8(truncatingIfNeeded: f[i]) }
                            }
                        }
                    }
                    return
                }
                for r in (c * chunk)..<min(count, (c + 1) * chunk) {
                    for s in 0..<m {
                        let code = KMeans.nearest(rows + r * dim + s * dsub, centroids: base + s * ksub * dsub, k: ksub, dim: dsub)
                        codes[r * m + s] = UInt8(code)
                    }
                }
            }
        }
    }

    /// out[0..<dim] += weight · the row `code` [M] stands for.
    @inline(__always)
    static func addDecoded(_ code: UnsafePointer<UInt8>, codebooks: UnsafePointer<Float>, subspaces m: Int, dsub: Int,
                           ksub: Int, weight: Float, into out: UnsafeMutablePointer<Float>) {
        if dsub == 2 {
            // The default: one pair per sub-space, the centroid's two values adjacent.
            for s in 0..<m {
                let centroid = codebooks + 2 * (s * ksub + Int(code[s]))
                out[2 * s] += weight * centroid[0]
                out[2 * s + 1] += weight * centroid[1]
            }
            return
        }
        for s in 0..<m {
            let centroid = codebooks + (s * ksub + Int(code[s])) * dsub
            let o = out + s * dsub
            for j in 0..<dsub { o[j] += weight * centroid[j] }
        }
    }

    /// The decoded row of `code` into out [dim] (tests and retraining's reference).
    func decode(_ code: UnsafePointer<UInt8>, into out: UnsafeMutablePointer<Float>) {
        out.update(repeating: 0, count: dim)
        codebooks.withUnsafeBufferPointer { books in
            ProductQuantizer.addDecoded(code, codebooks: books.baseAddress!, subspaces: subspaces, dsub: dsub, ksub: ksub,
                                        weight: 1, into: out)
        }
    }
}
