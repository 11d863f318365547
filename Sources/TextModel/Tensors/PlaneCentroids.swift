import CKernels

/// A 2-d codebook (dsub = 2: k centroids [k × 2], x and y interleaved) sorted by x, for
/// nearest-centroid searches that read only the centroids that can be nearest
/// (CKernels' tm_nearest2_sorted_avx2): k-means and encoding of a product quantizer
/// whose sub-vectors are pairs, the default. The answers are KMeans.nearest's, bit for
/// bit (the same distances, the least index on ties), so codebooks and codes do not
/// change; only the time does.
struct PlaneCentroids {
    private let k: Int
    private let xs: [Float], ys: [Float], ids: [Int32]

    private static let available = tm_kernels_avx2() != 0

    /// nil when the CPU lacks AVX2 or a centroid is not finite: callers then search in full.
    init?(_ centroids: UnsafePointer<Float>, k: Int) {
        guard PlaneCentroids.available, k > 0 else { return nil }
        for i in 0..<(2 * k) where !centroids[i].isFinite { return nil }
        let order = (0..<k).sorted { centroids[2 * $0] != centroids[2 * $1] ? centroids[2 * $0] < centroids[2 * $1] : $0 < $1 }
        let padded = (k + 7) / 8 * 8
        var xs = [Float](repeating: .infinity, count: padded), ys = [Float](repeating: 0, count: padded)
        var ids = [Int32](repeating: .max, count: padded)
        for (i, c) in order.enumerated() {
            xs[i] = centroids[2 * c]
            ys[i] = centroids[2 * c + 1]
            ids[i] = Int32(c)
        }
        self.k = k
        self.xs = xs
        self.ys = ys
        self.ids = ids
    }

    /// out[i] = the index of the centroid nearest to (points[i·stride], points[i·stride + 1]),
    /// i < count; `centroids` is the codebook this was made from (for the rare point the
    /// sorted search cannot place: no finite distance).
    func nearest(points: UnsafePointer<Float>, stride: Int, count: Int, centroids: UnsafePointer<Float>,
                 into out: UnsafeMutablePointer<Int32>) {
        xs.withUnsafeBufferPointer { x in
            ys.withUnsafeBufferPointer { y in
                ids.withUnsafeBufferPointer { id in
                    tm_nearest2_sorted_avx2(x.baseAddress, y.baseAddress, id.baseAddress, k, points, stride, count, out)
                }
            }
        }
        for i in 0..<count where out[i] < 0 {
            out[i] = Int32(KMeans.nearest(points + i * stride, centroids: centroids, k: k, dim: 2))
        }
    }
}
