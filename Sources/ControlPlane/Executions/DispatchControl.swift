import Synchronization

/// The routes' side of the dispatcher: a submit wakes it, a cancel of a running execution is
/// handed to it, and readiness asks whether any runner is connected. It exists whether or not
/// this process runs a dispatcher (a test of the API alone has none; signals then just wait).
final class DispatchControl: Sendable {
    let wakeups: AsyncStream<Void>
    private let wakeup: AsyncStream<Void>.Continuation
    let cancels: AsyncStream<String>
    private let cancel: AsyncStream<String>.Continuation
    /// Runners and whether each is connected; nil while no dispatcher runs in this process.
    private let runners = Mutex<[String: Bool]?>(nil)
    /// Set by a wake-up that means new work may be queued (not just a freed slot).
    private let newWork = Mutex(false)

    init() {
        (wakeups, wakeup) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
        (cancels, cancel) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1_024))
    }

    /// New work may be waiting: a submit, a notification from another node, the poll.
    func wake() {
        newWork.withLock { $0 = true }
        wakeup.yield()
    }

    /// A runner has room again: worth a claim only if the queue was not found empty since.
    func capacityFreed() { wakeup.yield() }

    /// Whether a `wake()` came since the last call (and clears it).
    func takeNewWork() -> Bool { newWork.withLock { value in defer { value = false }; return value } }

    /// Stop this running execution (the cancel is already recorded in the store).
    func requestCancel(_ id: String) { cancel.yield(id) }

    func setRunner(_ name: String, connected: Bool) {
        runners.withLock { $0 = ($0 ?? [:]).merging([name: connected]) { $1 } }
    }

    /// nil when this process dispatches nothing; else how many of its runners are connected, of how many.
    var runnerReadiness: (connected: Int, configured: Int)? {
        runners.withLock { runners in runners.map { ($0.values.filter { $0 }.count, $0.count) } }
    }
}
