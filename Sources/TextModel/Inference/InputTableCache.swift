#if canImport(Glibc)
import Glibc
#endif

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
        table = network.makeInputTable(params, threads: threads)
        gaveUp = table == nil
        return table
    }
}
