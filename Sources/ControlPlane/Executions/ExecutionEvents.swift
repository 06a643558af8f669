import Synchronization

/// What a live reader of a run sees: its log as it is written, and its status changes.
enum ExecutionEvent: Sendable, Equatable {
    /// A piece of the run's stderr (its log stream).
    case log(String)
    case status(ExecutionStatus)
    /// Nothing happened for a while: time to look at the store (the run may be another node's).
    case heartbeat
}

/// The live side of runs dispatched by this node, for `GET /executions/{id}/logs` as an event
/// stream. A subscriber gets the stderr written so far, then every event until the run ends, and
/// a heartbeat every so often — a run queued here, or running on another node, is followed from
/// the store on those.
final class ExecutionEvents: Sendable {
    private struct Run {
        var began = false
        var stderr: String = ""
        var subscribers: [Int: AsyncStream<ExecutionEvent>.Continuation] = [:]
    }

    private struct State {
        var runs: [String: Run] = [:]
        var nextSubscriber = 0
    }

    private let state = Mutex(State())

    /// A run of this node started: its log is kept from now until it ends.
    func began(_ id: String) {
        state.withLock { state in
            var run = state.runs[id] ?? Run()
            run.began = true
            for continuation in run.subscribers.values { continuation.yield(.status(.running)) }
            state.runs[id] = run
        }
    }

    /// Stderr of a run of this node, kept up to `limit` bytes (the profile caps it anyway).
    func log(_ id: String, _ text: String, limit: Int = 4 << 20) {
        state.withLock { state in
            guard var run = state.runs[id], run.began, run.stderr.utf8.count < limit else { return }
            run.stderr += text
            for continuation in run.subscribers.values { continuation.yield(.log(text)) }
            state.runs[id] = run
        }
    }

    /// The stderr kept so far for a run of this node (nil when this node is not running it).
    func stderr(_ id: String) -> String? {
        state.withLock { state in state.runs[id].flatMap { $0.began ? $0.stderr : nil } }
    }

    /// The run ended here (or went back to the queue, `status` pending): subscribers get the
    /// status and their streams finish.
    func ended(_ id: String, status: ExecutionStatus) {
        let subscribers = state.withLock { state in state.runs.removeValue(forKey: id)?.subscribers.values.map { $0 } ?? [] }
        for continuation in subscribers {
            continuation.yield(.status(status))
            continuation.finish()
        }
    }

    /// Events of a run from now on (its stderr so far first, when this node runs it), with a
    /// heartbeat every `heartbeat`; the stream finishes when the run ends on this node.
    func subscribe(_ id: String, heartbeat: Duration = .seconds(1)) -> AsyncStream<ExecutionEvent> {
        let (stream, continuation) = AsyncStream<ExecutionEvent>.makeStream(bufferingPolicy: .bufferingNewest(4_096))
        let key: Int = state.withLock { state in
            var run = state.runs[id] ?? Run()
            let key = state.nextSubscriber
            state.nextSubscriber += 1
            if !run.stderr.isEmpty { continuation.yield(.log(run.stderr)) }
            run.subscribers[key] = continuation
            state.runs[id] = run
            return key
        }
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: heartbeat)
                continuation.yield(.heartbeat)
            }
        }
        continuation.onTermination = { [weak self] _ in
            ticker.cancel()
            self?.state.withLock { state in
                guard var run = state.runs[id] else { return }
                run.subscribers.removeValue(forKey: key)
                // A run this node never started keeps no entry once nobody watches it.
                state.runs[id] = run.subscribers.isEmpty && !run.began ? nil : run
            }
        }
        return stream
    }
}
