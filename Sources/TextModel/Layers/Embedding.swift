/// Embedding lookup. Shapes: table [V × D], ids [N], out [N × D].
enum Embedding {
    static func forward(table: UnsafePointer<Float>, dim: Int, ids: UnsafePointer<Int32>, count: Int,
                        out: UnsafeMutablePointer<Float>) {
        for r in 0..<count {
            (out + r * dim).update(from: table + Int(ids[r]) * dim, count: dim)
        }
    }

    /// Accumulates dOut [N × D] into the rows of dTable [V × D] that were looked up.
    static func backward(dOut: UnsafePointer<Float>, dim: Int, ids: UnsafePointer<Int32>, count: Int,
                         dTable: UnsafeMutablePointer<Float>) {
        for r in 0..<count {
            let row = dTable + Int(ids[r]) * dim
            let src = dOut + r * dim
            for j in 0..<dim { row[j] += src[j] }
        }
    }
}
