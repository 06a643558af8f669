import Foundation

/// Failed-login throttling per account and per client address: a sliding window of recent
/// failures. An account under attack from many addresses and one address trying many
/// accounts are both slowed; a success clears the account's failures.
actor LoginRateLimiter {
    struct Limits: Sendable {
        var perAccount: Int = 5
        var perAddress: Int = 20
        var window: TimeInterval = 300
    }

    private let limits: Limits
    private let now: @Sendable () -> TimeInterval
    private var accountFailures: [String: [TimeInterval]] = [:]
    private var addressFailures: [String: [TimeInterval]] = [:]
    private var recordsSincePrune = 0

    init(limits: Limits, now: @escaping @Sendable () -> TimeInterval = { Date().timeIntervalSince1970 }) {
        self.limits = limits
        self.now = now
    }

    /// Seconds to wait before another attempt is allowed, or nil when allowed now.
    func retryAfter(account: String, address: String) -> Int? {
        let t = now()
        let byAccount = wait(accountFailures[account] ?? [], limit: limits.perAccount, at: t)
        let byAddress = wait(addressFailures[address] ?? [], limit: limits.perAddress, at: t)
        let longest = max(byAccount ?? 0, byAddress ?? 0)
        return longest > 0 ? longest : nil
    }

    /// Checks the limits and, when the attempt may go ahead, counts it as a failure at once (a
    /// success takes it back), so parallel guesses cannot all pass the check before any of them
    /// is counted. Seconds to wait, or nil when the attempt is admitted.
    func admit(account: String, address: String) -> Int? {
        if let wait = retryAfter(account: account, address: address) { return wait }
        recordFailure(account: account, address: address)
        return nil
    }

    /// An admitted attempt succeeded: the account's failures are cleared and the address gets
    /// its attempt back.
    func recordSuccess(account: String, address: String) {
        accountFailures[account] = nil
        if var list = addressFailures[address], !list.isEmpty {
            list.removeLast()
            addressFailures[address] = list.isEmpty ? nil : list
        }
    }

    func recordFailure(account: String, address: String) {
        let t = now()
        accountFailures[account, default: []].append(t)
        addressFailures[address, default: []].append(t)
        recordsSincePrune += 1
        if recordsSincePrune >= 1_000 { prune(at: t) }
    }

    private func wait(_ failures: [TimeInterval], limit: Int, at t: TimeInterval) -> Int? {
        let recent = failures.filter { t - $0 < limits.window }
        guard recent.count >= limit, let oldest = recent.suffix(limit).first else { return nil }
        return max(1, Int((limits.window - (t - oldest)).rounded(.up)))
    }

    /// Forgets windows that have passed, so memory stays bounded by recent attackers.
    private func prune(at t: TimeInterval) {
        recordsSincePrune = 0
        accountFailures = accountFailures.compactMapValues { list in
            let kept = list.filter { t - $0 < limits.window }
            return kept.isEmpty ? nil : kept
        }
        addressFailures = addressFailures.compactMapValues { list in
            let kept = list.filter { t - $0 < limits.window }
            return kept.isEmpty ? nil : kept
        }
    }
}
