import Foundation
import Synchronization

/// A thread of its own for one SQLite connection, usable as a task executor: a transaction's
/// body runs on it from BEGIN to COMMIT, so each statement is a plain blocking call on this
/// thread instead of two thread hops (SQLiteNIO sends every statement to a thread pool and
/// back). A lock wait (`busy_timeout`) or a checkpoint's fsync blocks this thread only, never
/// the cooperative pool that serves HTTP.
final class SQLiteThread: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var jobs: [UnownedJob] = []
    private var head = 0
    private var stopping = false
    /// The thread's pthread id once it runs (0 before).
    private let threadID = Atomic<UInt>(0)

    init(name: String) {
        let thread = Thread { [self] in loop() }
        thread.name = name
        thread.start()
    }

    /// True when called on this executor's thread.
    var isCurrent: Bool { threadID.load(ordering: .acquiring) == UInt(pthread_self()) }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Lets the queued jobs finish, then ends the thread.
    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        threadID.store(UInt(pthread_self()), ordering: .releasing)
        let executor = asUnownedTaskExecutor()
        while true {
            condition.lock()
            while head == jobs.count && !stopping { condition.wait() }
            if head == jobs.count {
                condition.unlock()
                return
            }
            let job = jobs[head]
            head += 1
            if head == jobs.count {
                jobs.removeAll(keepingCapacity: true)
                head = 0
            }
            condition.unlock()
            job.runSynchronously(on: executor)
        }
    }
}
