import Dispatch
import Synchronization

/// One place a run can happen: a reusable cgroup and an unprivileged host uid of its own.
final class Slot: Sendable {
    let index: Int
    let cgroup: any CgroupSlot
    let lease: HostIDLease
    /// The supervisor blocks in poll(2) for the whole run, so it gets a thread outside the
    /// Swift concurrency pool; a serial queue per slot reuses Dispatch's threads instead of
    /// creating one per run.
    let supervisorQueue: DispatchQueue
    let stack: ChildStack

    init(index: Int, cgroup: any CgroupSlot, lease: HostIDLease, stack: ChildStack) {
        self.stack = stack
        self.index = index
        self.cgroup = cgroup
        self.lease = lease
        supervisorQueue = DispatchQueue(label: "agentgrid.sandbox.slot\(index)", qos: .userInitiated)
    }
}

/// A place in the line for a slot, taken synchronously (`SandboxEngine.placeInLine()`) so that
/// the order in which runs were admitted is the order in which they get slots, whatever order
/// their tasks happen to reach the engine in. Hand it to exactly one run; the run gives it up
/// whether it gets a slot, is cancelled, or fails before it needs one.
public struct SlotTicket: Sendable, Hashable {
    let number: UInt64
}

/// Hands out free resources strictly in the order tickets were taken. A slot that frees while
/// the head of the line has not come to collect yet is set aside for it, not given to a later
/// ticket that happens to be waiting already.
final class SlotPool<Resource: Sendable>: Sendable {
    private struct State {
        var free: [Resource]
        /// Tickets not yet served, oldest first.
        var line: [UInt64] = []
        var nextTicket: UInt64 = 0
        var waiting: [UInt64: CheckedContinuation<Resource?, Never>] = [:]
        /// Served before their holder arrived.
        var setAside: [UInt64: Resource] = [:]
        var closed = false
        var quarantined = 0

        /// Serves the head of the line while resources are free; returns the waiters to resume.
        mutating func serve() -> [(CheckedContinuation<Resource?, Never>, Resource)] {
            var ready: [(CheckedContinuation<Resource?, Never>, Resource)] = []
            while !free.isEmpty, !line.isEmpty {
                let ticket = line.removeFirst()
                let resource = free.removeFirst()
                if let continuation = waiting.removeValue(forKey: ticket) {
                    ready.append((continuation, resource))
                } else {
                    setAside[ticket] = resource
                }
            }
            return ready
        }
    }

    private let state: Mutex<State>

    init(_ resources: [Resource]) {
        state = Mutex(State(free: resources))
    }

    /// A place at the back of the line.
    func ticket() -> SlotTicket {
        state.withLock { state in
            state.nextTicket += 1
            state.line.append(state.nextTicket)
            return SlotTicket(number: state.nextTicket)
        }
    }

    /// The resource for `ticket` (a new place at the back of the line when nil), once every
    /// earlier ticket has been served; nil when the caller's task is cancelled or the pool
    /// closes first. The ticket is used up either way.
    func acquire(_ ticket: SlotTicket? = nil) async -> Resource? {
        let number = (ticket ?? self.ticket()).number
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Resource?, Never>) in
                let outcome: Resource?? = state.withLock { state in
                    if let resource = state.setAside.removeValue(forKey: number) {
                        if !state.closed && !Task.isCancelled { return .some(resource) }
                        state.free.append(resource)  // not wanted after all: the next in line gets it
                        return .some(nil)
                    }
                    if state.closed || Task.isCancelled {
                        state.line.removeAll { $0 == number }
                        return .some(nil)
                    }
                    state.waiting[number] = continuation
                    return .none
                }
                if case .some(let resource) = outcome { continuation.resume(returning: resource) }
                resumeServed()
            }
        } onCancel: {
            let continuation = state.withLock { state -> CheckedContinuation<Resource?, Never>? in
                guard let continuation = state.waiting.removeValue(forKey: number) else { return nil }
                state.line.removeAll { $0 == number }
                return continuation
            }
            continuation?.resume(returning: nil)
        }
    }

    /// Gives up a ticket that will never be used to acquire (the run failed before it needed a slot).
    func abandon(_ ticket: SlotTicket) {
        state.withLock { state in
            state.line.removeAll { $0 == ticket.number }
            if let resource = state.setAside.removeValue(forKey: ticket.number) { state.free.append(resource) }
        }
        resumeServed()
    }

    func release(_ resource: Resource) {
        state.withLock { $0.free.append(resource) }
        resumeServed()
    }

    /// A resource that could not be cleaned is never handed out again.
    func quarantine(_ resource: Resource) {
        state.withLock { $0.quarantined += 1 }
    }

    var quarantinedCount: Int { state.withLock { $0.quarantined } }

    /// Closes the pool: waiters get nil, nothing is handed out any more.
    func close() {
        let waiters = state.withLock { state in
            state.closed = true
            state.free.removeAll()
            state.setAside.removeAll()
            state.line.removeAll()
            defer { state.waiting.removeAll() }
            return Array(state.waiting.values)
        }
        for waiter in waiters { waiter.resume(returning: nil) }
    }

    /// Resumes, outside the lock, whoever the line's head can now be served to.
    private func resumeServed() {
        let ready = state.withLock { state in state.closed ? [] : state.serve() }
        for (continuation, resource) in ready { continuation.resume(returning: resource) }
    }
}
