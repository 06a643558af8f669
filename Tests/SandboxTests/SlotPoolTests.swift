import Synchronization
import Testing
@testable import Sandbox

/// The slot line on its own: who gets a freed slot, in which order, and what happens to a
/// place whose holder is cancelled, fails early or never comes.
@Suite struct SlotPoolTests {
    /// Shared between the test's tasks.
    final class Shared<Value: Sendable>: Sendable {
        private let mutex: Mutex<Value>
        init(_ value: Value) { mutex = Mutex(value) }
        func withLock<R: Sendable>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
    }

    @Test func slotsGoInTicketOrderWhateverOrderTheHoldersArriveIn() async throws {
        let pool = SlotPool(["a"])
        let busy = await pool.acquire()
        let tickets = (0..<4).map { _ in pool.ticket() }
        let order = Shared<[Int]>([])
        try await withThrowingTaskGroup(of: Void.self) { group in
            // The holders arrive last ticket first: the order of tickets must win anyway.
            for index in tickets.indices.reversed() {
                group.addTask {
                    guard let slot = await pool.acquire(tickets[index]) else { throw CancellationError() }
                    order.withLock { $0.append(index) }
                    pool.release(slot)
                }
                try await Task.sleep(for: .milliseconds(5))
            }
            pool.release(try #require(busy))
            try await group.waitForAll()
        }
        #expect(order.withLock { $0 } == [0, 1, 2, 3])
    }

    @Test func aSlotFreedBeforeTheHeadArrivesWaitsForTheHead() async throws {
        let pool = SlotPool(["a"])
        let busy = try #require(await pool.acquire())
        let first = pool.ticket(), second = pool.ticket()
        let secondGot = Shared<String?>(nil)
        let secondTask = Task {
            let slot = await pool.acquire(second)
            secondGot.withLock { $0 = slot }
            if let slot { pool.release(slot) }
        }
        try await Task.sleep(for: .milliseconds(20))
        pool.release(busy)
        try await Task.sleep(for: .milliseconds(20))
        #expect(secondGot.withLock { $0 } == nil, "the second place took the slot set aside for the first")
        let slot = try #require(await pool.acquire(first))
        #expect(slot == "a")
        pool.release(slot)
        await secondTask.value
        #expect(secondGot.withLock { $0 } == "a")
    }

    @Test func anAbandonedPlaceLetsTheNextOneThrough() async throws {
        let pool = SlotPool(["a"])
        let busy = try #require(await pool.acquire())
        let abandoned = pool.ticket(), next = pool.ticket()
        pool.release(busy)  // set aside for `abandoned`, whose run then fails before it needs it
        pool.abandon(abandoned)
        let slot = await pool.acquire(next)
        #expect(slot == "a")
        pool.abandon(next)  // already used: nothing happens
        #expect(pool.ticket().number > next.number)
    }

    @Test func aCancelledWaiterGetsNilAndGivesItsPlaceUp() async throws {
        let pool = SlotPool(["a"])
        let busy = try #require(await pool.acquire())
        let cancelled = pool.ticket(), next = pool.ticket()
        let waiter = Task { await pool.acquire(cancelled) }
        try await Task.sleep(for: .milliseconds(20))
        waiter.cancel()
        #expect(await waiter.value == nil)
        pool.release(busy)
        #expect(await pool.acquire(next) == "a")
    }

    @Test func aPlaceServedButCollectedByACancelledTaskGoesToTheNext() async throws {
        let pool = SlotPool(["a"])
        let busy = try #require(await pool.acquire())
        let late = pool.ticket(), next = pool.ticket()
        pool.release(busy)  // set aside for `late`
        let lateTask = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await pool.acquire(late)
        }
        #expect(await lateTask.value == nil)
        #expect(await pool.acquire(next) == "a")
    }

    @Test func closingWakesEveryWaiterWithNilAndHandsOutNothingMore() async throws {
        let pool = SlotPool(["a"])
        let busy = try #require(await pool.acquire())
        let waiters = (0..<3).map { _ in Task { await pool.acquire() } }
        try await Task.sleep(for: .milliseconds(20))
        pool.close()
        for waiter in waiters { #expect(await waiter.value == nil) }
        pool.release(busy)
        #expect(await pool.acquire() == nil)
    }

    @Test func neverMoreHoldersThanSlotsUnderContention() async throws {
        let pool = SlotPool(["a", "b"])
        let live = Shared((now: 0, most: 0, served: 0))
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<200 {
                let ticket = pool.ticket()
                group.addTask {
                    guard let slot = await pool.acquire(ticket) else { return }
                    live.withLock { $0.now += 1; $0.served += 1; $0.most = max($0.most, $0.now) }
                    await Task.yield()
                    live.withLock { $0.now -= 1 }
                    pool.release(slot)
                }
            }
        }
        #expect(live.withLock { $0.most } <= 2)
        #expect(live.withLock { $0.served } == 200)
    }
}
