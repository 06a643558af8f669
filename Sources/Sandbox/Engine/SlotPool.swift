import Dispatch

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

/// Hands out free slots in FIFO order; waiters are woken in the order they asked.
actor SlotPool {
    private var free: [Slot]
    private var waiters: [(id: UInt64, continuation: CheckedContinuation<Slot?, Never>)] = []
    private var nextWaiter: UInt64 = 0
    private var closed = false
    private(set) var quarantined: [Slot] = []

    init(slots: [Slot]) {
        free = slots
    }

    /// A free slot, or nil when the caller's task is cancelled while waiting or the pool closes.
    func acquire() async -> Slot? {
        if closed || Task.isCancelled { return nil }
        if !free.isEmpty { return free.removeFirst() }
        nextWaiter += 1
        let id = nextWaiter
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                waiters.append((id, continuation))
            }
        } onCancel: {
            Task { await self.cancelWaiter(id) }
        }
    }

    func release(_ slot: Slot) {
        if !waiters.isEmpty {
            waiters.removeFirst().continuation.resume(returning: slot)
        } else {
            free.append(slot)
        }
    }

    /// A slot whose cgroup could not be emptied is never handed out again.
    func quarantine(_ slot: Slot) {
        quarantined.append(slot)
    }

    /// Closes the pool: waiters get nil, nothing is handed out any more.
    func close() {
        closed = true
        for waiter in waiters { waiter.continuation.resume(returning: nil) }
        waiters.removeAll()
        free.removeAll()
    }

    private func cancelWaiter(_ id: UInt64) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: index).continuation.resume(returning: nil)
    }
}
