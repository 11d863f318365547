#if canImport(Glibc)
import Glibc
#endif

/// Runs `body(0..<count)` on `count` threads: index 0 on the calling thread, the rest on
/// fresh pthreads, and returns when all are done. Plain pthreads keep Dispatch and
/// Foundation out of the shipped library. Used with count = configured threads, so a
/// thread count fixes the work split and with it the floating-point result.
enum Parallel {
    private final class Job {
        let body: (Int) -> Void
        let index: Int
        init(_ body: @escaping (Int) -> Void, _ index: Int) { self.body = body; self.index = index }
    }

    static func run(_ count: Int, _ body: (Int) -> Void) {
        if count <= 1 {
            body(0)
            return
        }
        withoutActuallyEscaping(body) { escapable in
            var threads = [pthread_t]()
            var inline: [Int] = [0]
            for i in 1..<count {
                let job = Unmanaged.passRetained(Job(escapable, i)).toOpaque()
                var thread = pthread_t()
                let rc = pthread_create(&thread, nil, { raw in
                    let job = Unmanaged<Job>.fromOpaque(raw!).takeRetainedValue()
                    job.body(job.index)
                    return nil
                }, job)
                if rc == 0 {
                    threads.append(thread)
                } else {
                    // Could not start a thread: do its share here instead.
                    Unmanaged<Job>.fromOpaque(job).release()
                    inline.append(i)
                }
            }
            for i in inline { escapable(i) }
            for t in threads { pthread_join(t, nil) }
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
