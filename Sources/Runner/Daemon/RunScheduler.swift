/// Admission and order of runs: at most `slots` at once, at most `queueCapacity` waiting,
/// and beyond that an immediate `busy` — memory stays bounded whatever the load. Waiting runs
/// are taken round-robin across connections, so one chatty client cannot starve the others.
actor RunScheduler {
    typealias ConnectionID = UInt64

    struct Job: Sendable {
        var runID: String
        var connection: ConnectionID
        /// The run itself; cancelling its task cancels the sandbox.
        var work: @Sendable () async -> Void
        /// Called instead of `work` when the job is cancelled (or drained) before it started.
        var dropped: @Sendable (_ reason: DropReason) -> Void
    }

    enum DropReason: Sendable { case cancelled, draining }

    enum Admission: Sendable, Equatable {
        case started
        case queued(position: Int)
        case busy
        case draining
        case duplicate
    }

    let slots: Int
    let queueCapacity: Int
    private var running: [String: Task<Void, Never>] = [:]
    private var queues: [ConnectionID: [Job]] = [:]
    private var rotation: [ConnectionID] = []
    private var draining = false
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []

    init(slots: Int, queueCapacity: Int) {
        self.slots = slots
        self.queueCapacity = queueCapacity
    }

    var busySlots: Int { running.count }
    var queueDepth: Int { queues.values.reduce(0) { $0 + $1.count } }
    var isDraining: Bool { draining }

    func submit(_ job: Job) -> Admission {
        if draining { return .draining }
        if running[job.runID] != nil || queues.values.contains(where: { $0.contains { $0.runID == job.runID } }) {
            return .duplicate
        }
        if running.count < slots {
            start(job)
            return .started
        }
        guard queueDepth < queueCapacity else { return .busy }
        if queues[job.connection] == nil { rotation.append(job.connection) }
        queues[job.connection, default: []].append(job)
        return .queued(position: queueDepth)
    }

    /// Cancels a queued run (never started) or a running one (the sandbox is killed).
    func cancel(runID: String) -> Bool {
        if let task = running[runID] {
            task.cancel()
            return true
        }
        for (connection, jobs) in queues {
            if let index = jobs.firstIndex(where: { $0.runID == runID }) {
                let job = queues[connection]!.remove(at: index)
                forgetIfEmpty(connection)
                job.dropped(.cancelled)
                return true
            }
        }
        return false
    }

    /// Stops admitting, drops the queue, lets running work finish for `grace`, then cancels it.
    func drain(grace: Duration) async {
        draining = true
        let waiting = queues.values.flatMap { $0 }
        queues.removeAll()
        rotation.removeAll()
        for job in waiting { job.dropped(.draining) }
        let deadline = ContinuousClock.now + grace
        let watchdog = Task {
            try? await Task.sleep(until: deadline, clock: .continuous)
            if !Task.isCancelled { self.cancelRunning() }  // the grace ran out with work still going
        }
        await waitUntilIdle()
        watchdog.cancel()
    }

    private func cancelRunning() {
        for task in running.values { task.cancel() }
    }

    func waitUntilIdle() async {
        if running.isEmpty { return }
        await withCheckedContinuation { idleWaiters.append($0) }
    }

    private func start(_ job: Job) {
        let runID = job.runID
        running[runID] = Task {
            await job.work()
            self.finished(runID)
        }
    }

    private func finished(_ runID: String) {
        running[runID] = nil
        while running.count < slots, let next = nextJob() { start(next) }
        if running.isEmpty {
            for waiter in idleWaiters { waiter.resume() }
            idleWaiters.removeAll()
        }
    }

    private func nextJob() -> Job? {
        guard !rotation.isEmpty else { return nil }
        let connection = rotation.removeFirst()
        let job = queues[connection]!.removeFirst()
        if queues[connection]!.isEmpty {
            queues[connection] = nil
        } else {
            rotation.append(connection)  // back of the line: round-robin
        }
        return job
    }

    private func forgetIfEmpty(_ connection: ConnectionID) {
        if queues[connection]?.isEmpty == true {
            queues[connection] = nil
            rotation.removeAll { $0 == connection }
        }
    }
}
