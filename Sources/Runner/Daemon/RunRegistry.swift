import RunnerProtocol

/// Where a run's result can be found after the client that submitted it went away: a client
/// that reconnects `collect`s a run by id — the stored result if it finished, or the result
/// when it finishes. Results are kept for the retention period; collecting a running orphan
/// adopts it, so it is not cancelled with the dead connection's other runs.
actor RunRegistry {
    private enum State {
        case running(subscribers: [AsyncStream<RunnerMessage>.Continuation], adopted: Bool)
        case finished(RunnerMessage, expires: ContinuousClock.Instant)
    }

    let retention: Duration
    private var runs: [String: State] = [:]
    /// Finished runs in the order they expire (one retention for all: the order they finished),
    /// so expiring looks only at the ones due instead of every kept result at each finish.
    private var expiries: [(runID: String, expires: ContinuousClock.Instant)] = []
    private var expiriesHead = 0

    init(retention: Duration) {
        self.retention = retention
    }

    /// A run is admitted (a duplicate id leaves the live run's record alone).
    func started(_ runID: String) {
        if case .running? = runs[runID] { return }
        runs[runID] = .running(subscribers: [], adopted: false)
    }

    /// A run that was refused after all (busy, draining).
    func forget(_ runID: String) {
        if case .running(let subscribers, _)? = runs[runID], subscribers.isEmpty { runs[runID] = nil }
    }

    func finished(_ runID: String, _ message: RunnerMessage) {
        if case .running(let subscribers, _)? = runs[runID] {
            for subscriber in subscribers { subscriber.yield(message) }
        }
        let expires = ContinuousClock.now + retention
        runs[runID] = .finished(message, expires: expires)
        expiries.append((runID, expires))
        expire()
    }

    enum Collected { case delivered, waiting, unknown }

    func collect(_ runID: String, into post: AsyncStream<RunnerMessage>.Continuation) -> Collected {
        expire()
        switch runs[runID] {
        case .finished(let message, _)?:
            post.yield(message)
            return .delivered
        case .running(let subscribers, _)?:
            runs[runID] = .running(subscribers: subscribers + [post], adopted: true)
            return .waiting
        case nil:
            return .unknown
        }
    }

    func isAdopted(_ runID: String) -> Bool {
        if case .running(_, let adopted)? = runs[runID] { return adopted }
        return false
    }

    private func expire() {
        let now = ContinuousClock.now
        while expiriesHead < expiries.count, expiries[expiriesHead].expires <= now {
            let (runID, expires) = expiries[expiriesHead]
            expiriesHead += 1
            // Only this entry's result: the id may have been submitted again since.
            if case .finished(_, let current)? = runs[runID], current == expires { runs[runID] = nil }
        }
        if expiriesHead > 1_024, expiriesHead * 2 > expiries.count {
            expiries.removeFirst(expiriesHead)
            expiriesHead = 0
        }
    }
}
