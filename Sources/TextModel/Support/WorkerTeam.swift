#if canImport(Glibc)
import Glibc
#endif

/// Threads started once and reused by every parallel section of one owner: a training
/// step, which runs thousands of short sections. `Parallel.run` starts fresh pthreads
/// each time, and starting a thread allocates (its record, its TLS): a team makes a step
/// allocate nothing and saves the start-up of every section.
///
/// `run(work)` runs work(0) on the calling thread and work(i) for i in 1..<count on the
/// team's threads, and returns when all are done, like `Parallel.run(count)`: thread i
/// always runs index i, so a thread count fixes the work split as before. One section
/// runs at a time (a team belongs to one step, which one thread drives). The threads
/// wait on a condition variable between sections and are joined when the team is freed.
final class WorkerTeam {
    let count: Int
    private var threads: [pthread_t] = []
    /// Indices whose thread could not be started: the calling thread runs them.
    private var inline: [Int] = []
    /// What the team's threads share with it. They hold it, not the team, so the team's
    /// deinit (which stops and joins them) never races a thread's reference to the team.
    private let shared = Shared()

    /// A team of `count` (≥ 1) including the calling thread; count − 1 threads start here.
    init(_ count: Int) {
        self.count = max(count, 1)
        guard self.count > 1 else { return }
        threads.reserveCapacity(self.count - 1)
        inline.reserveCapacity(self.count - 1)
        for i in 1..<self.count {
            if let thread = PThread.start({ [shared] in shared.serve(i) }) {
                threads.append(thread)
            } else {
                inline.append(i)
            }
        }
    }

    deinit {
        shared.stop()
        for t in threads { pthread_join(t, nil) }
    }

    /// Runs work.work(0..<count) across the team and returns when every index is done.
    /// No allocation: `work` is a class the caller made once (see TeamSection).
    func run(_ work: any TeamWork) {
        guard count > 1 else { return work.work(0) }
        shared.start(work, threads: threads.count)
        work.work(0)
        for i in inline { work.work(i) }
        shared.waitForThreads()
    }

    /// Runs `section` with `input` across the team (see TeamSection).
    func run<Input>(_ section: TeamSection<Input>, _ input: Input) {
        section.input = input
        run(section)
        section.input = nil   // the input's arrays are the caller's again, unshared
    }

    /// `run` of a closure, for work that runs seldom: making the closure callable from
    /// the team's threads (withoutActuallyEscaping) allocates a small thunk per call.
    func run(_ body: (Int) -> Void) {
        guard count > 1 else { return body(0) }
        withoutActuallyEscaping(body) { escapable in run(ClosureWork(escapable)) }
    }

    /// The lock, the section and the counts the team's threads and the caller share.
    private final class Shared {
        private let lock: UnsafeMutablePointer<pthread_mutex_t> = .allocate(capacity: 1)
        private let wake: UnsafeMutablePointer<pthread_cond_t> = .allocate(capacity: 1)
        private let finished: UnsafeMutablePointer<pthread_cond_t> = .allocate(capacity: 1)
        // Guarded by `lock`.
        private var work: (any TeamWork)?
        private var generation = 0
        private var pending = 0
        private var stopping = false

        init() {
            pthread_mutex_init(lock, nil)
            pthread_cond_init(wake, nil)
            pthread_cond_init(finished, nil)
        }

        deinit {
            pthread_cond_destroy(finished)
            pthread_cond_destroy(wake)
            pthread_mutex_destroy(lock)
            finished.deallocate()
            wake.deallocate()
            lock.deallocate()
        }

        func start(_ work: any TeamWork, threads: Int) {
            pthread_mutex_lock(lock)
            self.work = work
            generation &+= 1
            pending = threads
            pthread_cond_broadcast(wake)
            pthread_mutex_unlock(lock)
        }

        func waitForThreads() {
            pthread_mutex_lock(lock)
            while pending > 0 { pthread_cond_wait(finished, lock) }
            work = nil
            pthread_mutex_unlock(lock)
        }

        func stop() {
            pthread_mutex_lock(lock)
            stopping = true
            pthread_cond_broadcast(wake)
            pthread_mutex_unlock(lock)
        }

        /// A team thread's loop: wait for a section, run its index, say so; until stopped.
        func serve(_ index: Int) {
            var seen = 0
            pthread_mutex_lock(lock)
            while true {
                while generation == seen && !stopping { pthread_cond_wait(wake, lock) }
                if stopping { break }
                seen = generation
                pthread_mutex_unlock(lock)
                runSection(index)
                pthread_mutex_lock(lock)
                pending -= 1
                if pending == 0 { pthread_cond_signal(finished) }
            }
            pthread_mutex_unlock(lock)
        }

        /// Runs the current section's index. A function of its own so that its reference
        /// to the work is gone when it returns, before `pending` says so: `run` may return
        /// (and withoutActuallyEscaping checks that no copy of a closure is left) as soon
        /// as pending is 0. `work` was set under the lock before this thread woke, and is
        /// cleared only after every thread has finished, so reading it needs no lock.
        @inline(never)
        private func runSection(_ index: Int) { work?.work(index) }
    }
}

/// One parallel section of a WorkerTeam: `work(i)` runs worker i's share.
protocol TeamWork: AnyObject {
    func work(_ worker: Int)
}

/// A section made once (its closure built when its owner is made) and run many times
/// with a fresh `Input` (the step's own values: seeds, scales, its shards): running it
/// allocates nothing, where a closure literal per call would need a heap thunk.
final class TeamSection<Input>: TeamWork {
    private let body: (Input, Int) -> Void
    /// Set by WorkerTeam.run for the section's duration only.
    fileprivate(set) var input: Input?

    init(_ body: @escaping (_ input: Input, _ worker: Int) -> Void) { self.body = body }

    func work(_ worker: Int) {
        guard let input = input else { return }
        body(input, worker)
    }
}

/// A closure as TeamWork (WorkerTeam.run(_ body:)).
private final class ClosureWork: TeamWork {
    let body: (Int) -> Void
    init(_ body: @escaping (Int) -> Void) { self.body = body }
    func work(_ worker: Int) { body(worker) }
}
