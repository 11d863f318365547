/// Index of the largest of `count` floats (the first one on ties).
func argmax(_ p: UnsafePointer<Float>, _ count: Int) -> Int {
    var best = 0
    for j in 1..<max(count, 1) where p[j] > p[best] { best = j }
    return best
}
