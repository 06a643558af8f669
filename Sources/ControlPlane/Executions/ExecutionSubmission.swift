import Foundation
import HTTPTypes
import SQLKit

/// A submit, all in one transaction: the price held from the caller's balance as a `usage` row
/// and the execution queued as `pending`. The balance check and the debit are one conditional
/// statement (see `Ledger.post`), so no interleaving of submits can overdraw an account. With an
/// `Idempotency-Key`, a retry of the same request returns the first execution instead.
enum ExecutionSubmission {
    enum Submitted: Sendable {
        case created(Execution)
        /// The key was used before for this same request: the first execution, not charged again.
        case replayed(Execution)
    }

    /// Identifies "the same request": the agent and the inputs as sent.
    static func requestHash(agentID: String, inputs: JSONValue) -> String {
        BundleInspector.sha256(Array(agentID.utf8) + [0x0A] + inputs.serialized())
    }

    static func submit(agent: Agent, userID: String, inputs: JSONValue, idempotencyKey: String?, store: Store) async throws -> Submitted {
        let hash = requestHash(agentID: agent.id, inputs: inputs)
        do {
            return try await store.transaction { db in
                if let idempotencyKey, let replay = try await replay(idempotencyKey, userID: userID, hash: hash, in: db) { return replay }
                let execution = Execution(
                    id: RandomID.uuid(), agentID: agent.id, userID: userID, status: .pending, inputs: inputs,
                    priceMilli: agent.priceMilli, bundleHash: agent.bundleHash, createdAt: Timestamp.now())
                do {
                    try await Ledger.post(userID: userID, amountMilli: -agent.priceMilli, type: .usage,
                                          description: "Run of \(agent.name)", referenceID: execution.id, in: db)
                } catch Ledger.PostError.insufficientCredits {
                    throw APIError(HTTPResponse.Status(code: 402, reasonPhrase: "Payment Required"), "Insufficient credits: this agent costs \(JSONNumber.milli(agent.priceMilli).text) credits per run")
                }
                try await ExecutionStore.insert(execution, idempotencyKey: idempotencyKey, requestHash: hash, in: db)
                try await ExecutionNotifications.notify(engine: store.engine, in: db)
                return .created(execution)
            }
        } catch let error where idempotencyKey != nil && ConstraintViolation.isUnique(error, named: "idempotency") {
            // A concurrent submit with the same key committed first (PostgreSQL): answer as its retry.
            let replayed: Submitted? = try await store.read { db in try await replay(idempotencyKey!, userID: userID, hash: hash, in: db) }
            guard let replayed else { throw error }
            return replayed
        }
    }

    private static func replay(_ key: String, userID: String, hash: String, in db: any SQLDatabase) async throws -> Submitted? {
        guard let (existing, existingHash) = try await ExecutionStore.find(idempotencyKey: key, userID: userID, in: db) else { return nil }
        guard existingHash == hash else {
            throw APIError(.conflict, "This Idempotency-Key was already used with a different request")
        }
        return .replayed(existing)
    }

    /// 1 to 255 visible ASCII characters, as Stripe and the IETF draft allow.
    static func validKey(_ key: String) -> Bool {
        (1...255).contains(key.utf8.count) && key.utf8.allSatisfy { $0 >= 0x21 && $0 <= 0x7E }
    }
}
