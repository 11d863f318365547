/// Lloyd's k-means on small points (a product quantizer's sub-vectors, or row norms),
/// seeded and deterministic: the same points, k and seed give the same centroids.
///
///   points     [n × d]  row-major
///   centroids  [k × d]  written; k ≤ n
///
/// Initialised with k distinct points drawn from the seed. A cluster that empties is
/// re-seeded by splitting the largest one (its centroid nudged apart by ±1/1024), so
/// every centroid stays a useful code. Stops early once fewer than 1 in 1,000 points
/// change cluster in a step.
enum KMeans {
    static func cluster(points: UnsafePointer<Float>, count n: Int, dim d: Int, k: Int, iterations: Int,
                        rng: inout SeededGenerator, centroids: UnsafeMutablePointer<Float>) {
        guard n > 0, k > 0 else { return }
        var order = Array(0..<n)
        for i in 0..<min(k, n) {
            let j = i + Int(rng.next() % UInt64(n - i))
            order.swapAt(i, j)
        }
        for c in 0..<k { (centroids + c * d).update(from: points + order[c % n] * d, count: d) }
        // Plain buffers, not arrays captured by the search closures below: a captured
        // array is checked for exclusive access on every element access.
        let assignment = UnsafeMutablePointer<Int32>.allocate(capacity: n)
        let nearestFound = UnsafeMutablePointer<Int32>.allocate(capacity: n)
        let sums = UnsafeMutablePointer<Double>.allocate(capacity: k * d)
        assignment.initialize(repeating: -1, count: n)
        nearestFound.initialize(repeating: 0, count: n)
        sums.initialize(repeating: 0, count: k * d)
        defer {
            assignment.deallocate()
            nearestFound.deallocate()
            sums.deallocate()
        }
        var sizes = [Int](repeating: 0, count: k)
        // Scalars: the points sorted once, so that each step walks them against the
        // sorted centroids instead of searching for each (finite points only: NaN has no
        // place in an order, and infinities could make NaN centroids).
        let line = d == 1 ? SortedLine(points, count: n) : nil
        for _ in 0..<max(iterations, 1) {
            var changed = 0
            if d == 2, let plane = PlaneCentroids(centroids, k: k) {
                // Pairs: the sorted search, the same answers as `nearest`.
                plane.nearest(points: points, stride: 2, count: n, centroids: centroids, into: nearestFound)
            } else if d == 1 {
                // Scalars: the nearest of the sorted centroids by binary search.
                let order = (0..<k).sorted { centroids[$0] != centroids[$1] ? centroids[$0] < centroids[$1] : $0 < $1 }
                let sorted = order.map { centroids[$0] }
                sorted.withUnsafeBufferPointer { sorted in
                    order.withUnsafeBufferPointer { order in
                        if let line = line {
                            line.nearest(sorted, order, into: nearestFound)
                        } else {
                            for i in 0..<n { nearestFound[i] = Int32(order[nearestSorted(points[i], sorted)]) }
                        }
                    }
                }
            } else {
                for i in 0..<n { nearestFound[i] = Int32(nearest(points + i * d, centroids: centroids, k: k, dim: d)) }
            }
            for i in 0..<n where assignment[i] != nearestFound[i] {
                assignment[i] = nearestFound[i]
                changed += 1
            }
            // Later steps move a few points between neighbouring centroids and barely
            // change the centroids: stop once fewer than 1 in 1,000 points move.
            if changed == 0 || changed * 1000 < n { break }
            sums.update(repeating: 0, count: k * d)
            for c in 0..<k { sizes[c] = 0 }
            sizes.withUnsafeMutableBufferPointer { sizes in
                for i in 0..<n {
                    let c = Int(assignment[i])
                    sizes[c] += 1
                    for j in 0..<d { sums[c * d + j] += Double(points[i * d + j]) }
                }
            }
            for c in 0..<k where sizes[c] > 0 {
                for j in 0..<d { centroids[c * d + j] = Float(sums[c * d + j] / Double(sizes[c])) }
            }
            splitEmpty(centroids, sizes: &sizes, k: k, dim: d)
        }
    }

    /// Scalar points in increasing order with their indices: the nearest of sorted
    /// centroids, for every point, in one merge-like walk (the lower bound of a point
    /// only moves up as the points grow), the same answers as `nearestSorted`.
    private struct SortedLine {
        let values: [Float]
        let indices: [Int32]

        /// nil when a point is not finite (the caller then searches point by point).
        init?(_ points: UnsafePointer<Float>, count n: Int) {
            for i in 0..<n where !points[i].isFinite { return nil }
            let order = (0..<n).sorted { points[$0] != points[$1] ? points[$0] < points[$1] : $0 < $1 }
            values = order.map { points[$0] }
            indices = order.map { Int32($0) }
        }

        func nearest(_ sorted: UnsafeBufferPointer<Float>, _ order: UnsafeBufferPointer<Int>,
                     into out: UnsafeMutablePointer<Int32>) {
            let k = sorted.count
            var low = 0   // the first centroid >= the current point (k if none)
            values.withUnsafeBufferPointer { values in
                indices.withUnsafeBufferPointer { indices in
                    for j in 0..<values.count {
                        let x = values[j]
                        while low < k && sorted[low] < x { low += 1 }
                        let position = low == k ? k - 1 : low == 0 ? 0 : (x - sorted[low - 1] <= sorted[low] - x ? low - 1 : low)
                        out[Int(indices[j])] = Int32(order[position])
                    }
                }
            }
        }
    }

    /// Position in `sorted` (increasing) of the value nearest to `x` (the lower on ties).
    private static func nearestSorted(_ x: Float, _ sorted: UnsafeBufferPointer<Float>) -> Int {
        // The first position whose value is >= x (count if none), without branches on
        // the data: the halving always takes the same steps, the choice is a select.
        var base = 0, n = sorted.count
        while n > 1 {
            let half = n / 2
            base = sorted[base + half] < x ? base + half : base
            n -= half
        }
        let low = base + (sorted[base] < x ? 1 : 0)
        if low == sorted.count { return sorted.count - 1 }
        if low == 0 { return 0 }
        return x - sorted[low - 1] <= sorted[low] - x ? low - 1 : low
    }

    /// Gives every empty cluster half of the largest one: the two centroids move apart.
    private static func splitEmpty(_ centroids: UnsafeMutablePointer<Float>, sizes: inout [Int], k: Int, dim d: Int) {
        let eps: Float = 1 / 1024
        for c in 0..<k where sizes[c] == 0 {
            var largest = 0
            for m in 1..<k where sizes[m] > sizes[largest] { largest = m }
            guard sizes[largest] > 1 else { return }
            for j in 0..<d {
                let sign: Float = j % 2 == 0 ? 1 : -1
                let v = centroids[largest * d + j]
                centroids[c * d + j] = v * (1 + sign * eps) + sign * eps * eps
                centroids[largest * d + j] = v * (1 - sign * eps) - sign * eps * eps
            }
            sizes[c] = sizes[largest] / 2
            sizes[largest] -= sizes[c]
        }
    }

    /// `nearest` for dsub = 2, eight centroids at a time: the interleaved (x, y) pairs
    /// of 8 centroids are one 16-float load split into even and odd lanes.
    @inline(__always)
    private static func nearest2(_ x: Float, _ y: Float, _ centroids: UnsafePointer<Float>, k: Int) -> Int {
        let vx = SIMD8<Float>(repeating: x), vy = SIMD8<Float>(repeating: y)
        let raw = UnsafeRawPointer(centroids)
        return nearestByEights(k, eight: { g in
            let v = raw.loadUnaligned(fromByteOffset: g * 64, as: SIMD16<Float>.self)
            let dx = v.evenHalf - vx, dy = v.oddHalf - vy
            return dx * dx + dy * dy
        }, one: { c in
            let dx = centroids[2 * c] - x, dy = centroids[2 * c + 1] - y
            return dx * dx + dy * dy
        })
    }

    /// `nearest` for dim 1, eight centroids at a time.
    @inline(__always)
    private static func nearest1(_ x: Float, _ centroids: UnsafePointer<Float>, k: Int) -> Int {
        let vx = SIMD8<Float>(repeating: x)
        let raw = UnsafeRawPointer(centroids)
        return nearestByEights(k, eight: { g in
            let dx = raw.loadUnaligned(fromByteOffset: g * 32, as: SIMD8<Float>.self) - vx
            return dx * dx
        }, one: { c in (centroids[c] - x) * (centroids[c] - x) })
    }

    /// The least index of the least distance among k centroids, the scalar loop's answer
    /// (ties included): `eight(g)` gives the distances of centroids 8g ..< 8g + 8, `one(c)`
    /// those of the last k mod 8. Each lane keeps its first minimum and the lanes are
    /// reduced by (distance, index), so the order of the visits does not matter.
    @inline(__always)
    private static func nearestByEights(_ k: Int, eight: (Int) -> SIMD8<Float>, one: (Int) -> Float) -> Int {
        let groups = k / 8
        var best = SIMD8<Float>(repeating: .infinity)
        var bestIndex = SIMD8<Int32>(repeating: 0)
        var index = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7)
        for g in 0..<groups {
            let distance = eight(g)
            let better = distance .< best
            best.replace(with: distance, where: better)
            bestIndex.replace(with: index, where: better)
            index &+= SIMD8<Int32>(repeating: 8)
        }
        var winner = Int(bestIndex[0]), winnerDistance = best[0]
        for lane in 1..<8 where best[lane] < winnerDistance || (best[lane] == winnerDistance && Int(bestIndex[lane]) < winner) {
            winner = Int(bestIndex[lane])
            winnerDistance = best[lane]
        }
        for c in (groups * 8)..<k {
            let distance = one(c)
            if distance < winnerDistance { winnerDistance = distance; winner = c }
        }
        return winner
    }

    /// Index of the centroid nearest to `point` (squared Euclidean; the first on ties).
    @inline(__always)
    static func nearest(_ point: UnsafePointer<Float>, centroids: UnsafePointer<Float>, k: Int, dim d: Int) -> Int {
        var best = 0
        var bestDistance = Float.infinity
        if d == 1, k >= 8 { return nearest1(point[0], centroids, k: k) }
        if d == 2 {
            let x = point[0], y = point[1]
            if k >= 8 { return nearest2(x, y, centroids, k: k) }
            for c in 0..<k {
                let dx = centroids[2 * c] - x, dy = centroids[2 * c + 1] - y
                let distance = dx * dx + dy * dy
                if distance < bestDistance { bestDistance = distance; best = c }
            }
            return best
        }
        for c in 0..<k {
            var distance: Float = 0
            for j in 0..<d {
                let diff = centroids[c * d + j] - point[j]
                distance += diff * diff
            }
            if distance < bestDistance { bestDistance = distance; best = c }
        }
        return best
    }
}
