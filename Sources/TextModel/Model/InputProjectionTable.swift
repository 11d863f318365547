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

    /// Builds the table of `network`'s weights `params` on up to `threads` threads, or
    /// returns nil when the network has none or its memory cannot be had.
    init?(network: Network, params: UnsafePointer<Float>, threads: Int) {
        guard let shape = network.inputTableShape, let count = InputProjectionTable.floats(shape),
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
                network.fillInputTable(params, direction: d, words: words, into: base + d * rows * width)
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

/// When a model may use an input projection table.
enum InputTablePolicy {
    /// For calls it pays for, if it fits (see InputTableCache).
    case automatic
    /// From the first prediction, if it fits (tests).
    case always
    /// Never: the model's weights may still change (validation during training), or a
    /// test wants the plain path.
    case never
}

/// A model's input projection table, built by the first prediction call that uses it,
/// then shared read-only by all calls on all threads.
///
/// A table is used only if it fits in `maxBytes` (64 MB: an LSTM with H = 128 and
/// 32,768 words, so typical vocabularies of up to ~30k words qualify), and, under the
/// automatic policy, only by calls predicting at least a quarter as many tokens as the
/// vocabulary has words. Building it costs as much as projecting V tokens, so the first
/// such call pays at most four times its own projections once (a few tens of ms for
/// 30k words), every later one saves them all, and a model that only ever predicts a
/// few texts at a time never builds it.
///
/// The rule looks at the call alone, never at earlier calls, so a call's outputs depend
/// only on the weights and its texts (not on what was predicted before, nor on the
/// thread count); with and without the table they differ at most by float rounding, as
/// a text's outputs already do from one batch to another. A failed allocation just
/// leaves the model without a table.
final class InputTableCache {
    static let maxBytes = 64 << 20

    private let policy: InputTablePolicy
    private var table: InputProjectionTable?
    private var gaveUp = false
    /// A pthread mutex for the same reason as WorkspacePool's: ThreadSanitizer runs of
    /// the C tests must see the table pass from the thread that built it to the others.
    private var lock = pthread_mutex_t()

    init(policy: InputTablePolicy) {
        self.policy = policy
        pthread_mutex_init(&lock, nil)
    }

    deinit {
        pthread_mutex_lock(&lock)
        pthread_mutex_unlock(&lock)
        pthread_mutex_destroy(&lock)
    }

    /// Whether the table exists (tests).
    var isBuilt: Bool {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        return table != nil
    }

    /// The table for a call predicting `tokens` tokens on up to `threads` threads: the
    /// existing one, one built now (other calls wait for it meanwhile), or nil.
    func table(network: Network, params: UnsafePointer<Float>, tokens: Int, threads: Int) -> InputProjectionTable? {
        guard policy != .never, let shape = network.inputTableShape,
              let floats = InputProjectionTable.floats(shape), floats <= InputTableCache.maxBytes / 4,
              policy == .always || tokens >= shape.rows / 4 + 1 else { return nil }
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        if let table = table { return table }
        if gaveUp { return nil }
        table = InputProjectionTable(network: network, params: params, threads: threads)
        gaveUp = table == nil
        return table
    }
}
