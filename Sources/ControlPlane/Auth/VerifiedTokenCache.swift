import Foundation
import Synchronization

/// Access tokens whose signature and claims already passed, by their exact text, with the
/// user id and expiry they carry. A client sends the same token with every request until it
/// expires, and checking it again (HMAC, base64, JSON) was most of the cost of authenticating.
/// Keyed by the whole token, signature included, so a token that differs in any byte is
/// verified from scratch; a hit is only good until the token's own `exp`.
final class VerifiedTokenCache: Sendable {
    private struct Entry {
        let userID: String
        let expiresAt: Date
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let capacity: Int

    init(capacity: Int = 4_096) {
        self.capacity = capacity
    }

    /// The user id of a token verified before and not expired at `now`.
    func userID(of token: String, at now: Date) -> String? {
        entries.withLock { entries in
            guard let entry = entries[token] else { return nil }
            guard now < entry.expiresAt else {
                entries[token] = nil
                return nil
            }
            return entry.userID
        }
    }

    func remember(_ token: String, userID: String, expiresAt: Date, now: Date) {
        entries.withLock { entries in
            if entries.count >= capacity {
                entries = entries.filter { now < $0.value.expiresAt }
                // Still full of live tokens (more clients than the capacity): start over rather
                // than grow; the cost is one full verification per token.
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[token] = Entry(userID: userID, expiresAt: expiresAt)
        }
    }

    var count: Int { entries.withLock { $0.count } }
}
