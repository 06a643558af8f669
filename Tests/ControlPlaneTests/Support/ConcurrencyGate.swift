/// At most `limit` holders at once, the rest wait in order. Swift Testing runs every async test
/// at once; each PostgreSQL test holds a database and a small pool, and the throw-away server
/// allows 200 connections, so the PostgreSQL tests take turns through this gate.
actor ConcurrencyGate {
    private let limit: Int
    private var holders = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) {
        self.limit = limit
    }

    func withTurn<R: Sendable>(_ body: @Sendable () async throws -> R) async throws -> R {
        await enter()
        do {
            let result = try await body()
            leave()
            return result
        } catch {
            leave()
            throw error
        }
    }

    private func enter() async {
        if holders < limit {
            holders += 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    private func leave() {
        if waiting.isEmpty {
            holders -= 1
        } else {
            waiting.removeFirst().resume()  // the turn passes straight to the next waiter
        }
    }
}
