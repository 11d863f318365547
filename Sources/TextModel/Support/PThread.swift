#if canImport(Glibc)
import Glibc
#endif

/// Starting one plain pthread that runs a closure: what Parallel.run and WorkerTeam both
/// do for each of their threads (plain pthreads keep Dispatch and Foundation out of the
/// shipped library).
enum PThread {
    private final class Body {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }

    /// Starts a thread running `body` and returns it for joining, or nil when the system
    /// would not start one; the caller then does that thread's share itself.
    static func start(_ body: @escaping () -> Void) -> pthread_t? {
        let context = Unmanaged.passRetained(Body(body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, context)
        guard rc == 0 else {
            Unmanaged<Body>.fromOpaque(context).release()
            return nil
        }
        return thread
    }
}
