#if canImport(Glibc)
import Glibc
#endif

/// Workspaces kept between prediction calls, so a call borrows buffers already allocated
/// for its batch shape instead of allocating (and zero-filling) them anew every time. Calls
/// on many threads at once each take their own; a workspace is used by one thread at a
/// time. The pool holds at most as many as were ever in use at once.
///
/// A pthread mutex, not Swift's Mutex: ThreadSanitizer runs of the C tests see pthread
/// calls in this (uninstrumented) library and so see a workspace pass from one thread
/// to the next through the pool; a futex-based lock would look like a race to them.
final class WorkspacePool {
    private let network: Network
    private var idle: [Workspace] = []
    private var lock = pthread_mutex_t()

    init(network: Network) {
        self.network = network
        pthread_mutex_init(&lock, nil)
    }

    deinit {
        // The model's reference count already orders this after the last call's use of
        // the pool; taking the lock once more shows that order to ThreadSanitizer, which
        // cannot see the count.
        pthread_mutex_lock(&lock)
        pthread_mutex_unlock(&lock)
        pthread_mutex_destroy(&lock)
    }

    /// Runs `body` with `count` workspaces no other call is using, then keeps them.
    func withWorkspaces<R>(_ count: Int, _ body: ([Workspace]) throws -> R) rethrows -> R {
        pthread_mutex_lock(&lock)
        // A fresh buffer: Array(idle.suffix(count)) may share idle's own storage (an
        // empty suffix of an empty pool does), and then this call reads its count
        // outside the lock while another call appends to it inside (TSan-instrumented
        // library, test_stress).
        var workspaces = [Workspace]()
        workspaces.reserveCapacity(count)
        workspaces.append(contentsOf: idle.suffix(count))
        idle.removeLast(workspaces.count)
        pthread_mutex_unlock(&lock)
        while workspaces.count < count { workspaces.append(network.makeWorkspace()) }
        defer {
            pthread_mutex_lock(&lock)
            idle.append(contentsOf: workspaces)
            pthread_mutex_unlock(&lock)
        }
        return try body(workspaces)
    }
}
