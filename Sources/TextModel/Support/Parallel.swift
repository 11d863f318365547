#if canImport(Glibc)
import Glibc
#endif

/// Runs `body(0..<count)` on `count` threads: index 0 on the calling thread, the rest on
/// fresh pthreads, and returns when all are done. Plain pthreads keep Dispatch and
/// Foundation out of the shipped library. Used with count = configured threads, so a
/// thread count fixes the work split and with it the floating-point result.
enum Parallel {
    static func run(_ count: Int, _ body: (Int) -> Void) {
        if count <= 1 {
            body(0)
            return
        }
        withoutActuallyEscaping(body) { escapable in
            var threads = [pthread_t]()
            var inline: [Int] = [0]
            for i in 1..<count {
                if let thread = PThread.start({ escapable(i) }) {
                    threads.append(thread)
                } else {
                    inline.append(i)  // could not start a thread: do its share here instead
                }
            }
            for i in inline { escapable(i) }
            for t in threads { pthread_join(t, nil) }
        }
    }

    /// Runs `body(item, worker)` for every item in 0..<items on `workers` threads (as
    /// `run` starts them), each worker taking the next item as soon as it is free. For
    /// work whose result does not depend on which worker runs an item: uneven items
    /// (inference groups, longest texts first) balance better than in a fixed split.
    static func forEach(_ items: Int, workers: Int, _ body: (Int, Int) -> Void) {
        if workers <= 1 || items <= 1 {
            for item in 0..<items { body(item, 0) }
            return
        }
        let queue = ItemQueue(items)
        run(min(workers, items)) { w in
            while let item = queue.next() { body(item, w) }
        }
    }

    /// Hands out 0..<count once each, under a pthread mutex (see WorkspacePool for why
    /// not Swift's Mutex).
    private final class ItemQueue {
        private var following = 0
        private let count: Int
        private var lock = pthread_mutex_t()

        init(_ count: Int) {
            self.count = count
            pthread_mutex_init(&lock, nil)
        }

        deinit { pthread_mutex_destroy(&lock) }

        func next() -> Int? {
            pthread_mutex_lock(&lock)
            defer { pthread_mutex_unlock(&lock) }
            guard following < count else { return nil }
            following += 1
            return following - 1
        }
    }

    /// A thread setting as a count: 0 means every core.
    static func threads(_ setting: Int) -> Int { setting <= 0 ? coreCount : setting }

    /// Workers worth starting for `items` pieces of work: at most `threads` (0 = every
    /// core), and none that would get fewer than `minimumEach` items, because starting a
    /// thread costs tens of microseconds, more than a few short texts take.
    static func workers(threads setting: Int, items: Int, minimumEach: Int) -> Int {
        max(1, min(threads(setting), items / max(minimumEach, 1)))
    }

    /// Number of online CPUs, at least 1, read once: glibc's sysconf reads it from
    /// /sys on every call, tens of microseconds that a one-text prediction would pay.
    static let coreCount: Int = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
}
