import Foundation
import SQLKit

public enum LedgerEntryType: String, Sendable, CaseIterable {
    case purchase, usage, refund, earning, payout
}

/// Every balance change is a `credit_transactions` row written together with the balance,
/// inside the caller's transaction: the sum of a user's rows always equals their balance.
enum Ledger {
    enum PostError: Error, Equatable {
        /// The debit would take the balance below zero; nothing was written.
        case insufficientCredits
        /// This reference already moved this user's credits with this type; nothing was written.
        case alreadyPosted
    }

    /// Adds `amountMilli` (negative for a debit) to the user's balance and records it.
    /// Must run inside `Store.transaction`.
    @discardableResult
    static func post(userID: String, amountMilli: Int64, type: LedgerEntryType, description: String,
                     referenceID: String?, in db: any SQLDatabase) async throws -> String {
        // The balance check and the change are one statement, so two debits racing on
        // PostgreSQL cannot both pass a check made before either wrote.
        let updated = try await db.raw("""
            UPDATE users SET credits_milli = credits_milli + \(bind: amountMilli), updated_at = \(bind: Timestamp.now())
            WHERE id = \(bind: userID) AND credits_milli + \(bind: amountMilli) >= 0
            RETURNING credits_milli
            """).all()
        if updated.isEmpty { throw PostError.insufficientCredits }
        let id = RandomID.uuid()
        do {
            try await db.raw("""
                INSERT INTO credit_transactions (id, user_id, amount_milli, type, description, reference_id, created_at)
                VALUES (\(bind: id), \(bind: userID), \(bind: amountMilli), \(bind: type.rawValue), \(bind: description),
                        \(bind: referenceID), \(bind: Timestamp.now()))
                """).run()
        } catch where ConstraintViolation.isUnique(error, named: "reference") {
            // The unique index on (user, type, reference) is the check: the caller's transaction
            // rolls back, the balance change with it.
            throw PostError.alreadyPosted
        }
        return id
    }

    /// Sum of the user's ledger rows; equal to the balance by construction (tests check it).
    static func sum(userID: String, in db: any SQLDatabase) async throws -> Int64 {
        let row = try await db.raw("SELECT CAST(COALESCE(SUM(amount_milli), 0) AS BIGINT) AS total FROM credit_transactions WHERE user_id = \(bind: userID)").first()
        return try row?.decode(column: "total", as: Int64.self) ?? 0
    }
}
