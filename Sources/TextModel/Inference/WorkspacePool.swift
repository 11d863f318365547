#if canImport(Glibc)
import Glibc
#endif

/// Items kept between calls (prediction workspaces, single-text slots), so a call borrows
/// buffers already allocated for its batch shape instead of allocating (and zero-filling)
/// them anew every time. Calls on many threads at once each take their own; an item is
/// used by one thread at a time. The pool holds at most as many as were ever in use at once.
///
/// A pthread mutex, not Swift's Mutex: ThreadSanitizer runs of the C tests see pthread
/// calls in this (uninstrumented) library and so see a workspace pass from one thread
/// to the next through the pool; a futex-based lock would look like a race to them.
final class ReusePool<Item> {
    private let make: () -> Item
    /// Unchecked exclusivity: `idle` is touched only under `lock`, which serialises every
    /// access already; each call's six dynamic checks found nothing to catch.
    @exclusivity(unchecked) private var idle: [Item] = []
    @exclusivity(unchecked) private var lock = pthread_mutex_t()

    /// `make` builds an item when no idle one is left.
    init(make: @escaping () -> Item) {
        self.make = make
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

    /// Runs `body` with `count` items no other call is using, then keeps them.
    func with<R>(_ count: Int, _ body: ([Item]) throws -> R) rethrows -> R {
        pthread_mutex_lock(&lock)
        // A fresh buffer: Array(idle.suffix(count)) may share idle's own storage (an
        // empty suffix of an empty pool does), and then this call reads its count
        // outside the lock while another call appends to it inside (TSan-instrumented
        // library, test_stress).
        var items = [Item]()
        items.reserveCapacity(count)
        items.append(contentsOf: idle.suffix(count))
        idle.removeLast(items.count)
        pthread_mutex_unlock(&lock)
        while items.count < count { items.append(make()) }
        defer {
            pthread_mutex_lock(&lock)
            idle.append(contentsOf: items)
            pthread_mutex_unlock(&lock)
        }
        return try body(items)
    }

    /// Runs `body` with one item no other call is using, then keeps it (no array).
    func withOne<R>(_ body: (Item) throws -> R) rethrows -> R {
        pthread_mutex_lock(&lock)
        let taken = idle.popLast()
        pthread_mutex_unlock(&lock)
        let item = taken ?? make()
        defer {
            pthread_mutex_lock(&lock)
            idle.append(item)
            pthread_mutex_unlock(&lock)
        }
        return try body(item)
    }
}

/// The prediction calls' workspaces.
typealias WorkspacePool = ReusePool<Workspace>

extension ReusePool where Item == Workspace {
    convenience init(network: Network) { self.init(make: { network.makeWorkspace() }) }

    /// Runs `body` with `count` workspaces no other call is using, then keeps them.
    func withWorkspaces<R>(_ count: Int, _ body: ([Workspace]) throws -> R) rethrows -> R {
        try with(count, body)
    }
}
