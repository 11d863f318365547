#if canImport(Glibc)
import Glibc
#endif

/// An inference shortcut for recurrent networks: the first layer's input projection
/// W_ih · emb(v) + b of every vocabulary word v, one [V × width] table per direction
/// (width = blocks·H: 4H for an LSTM, 3H for a GRU, H for a plain RNN).
///
/// Without it every prediction copies each token's embedding row into the workspace and
/// multiplies [tokens × E] by [E × width]: about a third of an LSTM's inference time.
/// With it a token costs one row copy. The rows are computed by the same call the
/// layers use (InputProjection.compute), one fixed chunk of words at a time, so they do
/// not depend on the thread count and match the table-less path to float rounding.
///
/// Valid only for the weights it was built from: models whose weights never change
/// after they are built (loaded or finished training) own one, through InputTableCache.
final class InputProjectionTable {
    let rows: Int
    let width: Int
    private let buffer: FloatBuffer

    /// Words per chunk when building: a fixed split, whatever the thread count.
    private static let chunk = 1024

    /// Builds the table of `encoder`'s weights `params` over the `vocabulary` rows of the
    /// embedding table `embeddings`, on up to `threads` threads, or returns nil when the
    /// encoder has none or its memory cannot be had.
    init?(encoder: any Encoder, params: UnsafePointer<Float>, embeddings: UnsafePointer<Float>, vocabulary: Int,
          threads: Int) {
        guard let shape = encoder.inputTableShape(vocabulary: vocabulary), let count = InputProjectionTable.floats(shape),
              let buffer = try? FloatBuffer.allocate(count: count, what: "the input projection table") else { return nil }
        rows = shape.rows
        width = shape.width
        self.buffer = buffer
        let chunks = (rows + InputProjectionTable.chunk - 1) / InputProjectionTable.chunk
        let jobs = chunks * shape.directions
        let workers = max(1, min(Parallel.threads(threads), jobs))
        let base = buffer.pointer, rows = rows, width = width
        Parallel.run(workers) { w in
            for job in stride(from: w, to: jobs, by: workers) {
                let d = job / chunks, first = (job % chunks) * InputProjectionTable.chunk
                let words = first..<min(first + InputProjectionTable.chunk, rows)
                encoder.fillInputTable(params, embeddings: embeddings, direction: d, words: words, into: base + d * rows * width)
            }
        }
    }

    /// Direction d's table [rows × width].
    func direction(_ d: Int) -> UnsafePointer<Float> { UnsafePointer(buffer.pointer + d * rows * width) }

    /// Floats of a table of `shape`, nil if that overflows.
    static func floats(_ shape: InputTableShape) -> Int? {
        let (perDirection, o1) = shape.rows.multipliedReportingOverflow(by: shape.width)
        let (all, o2) = perDirection.multipliedReportingOverflow(by: shape.directions)
        return o1 || o2 || all < 0 ? nil : all
    }
}

/// Size of a network's inference table: `directions` tables of [rows × width].
struct InputTableShape {
    let rows: Int
    let width: Int
    let directions: Int
}

