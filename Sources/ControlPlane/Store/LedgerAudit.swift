import SQLKit

/// Checks the books from the rows alone: every balance equals the sum of its ledger rows, and
/// every execution moved exactly what its state says (held at submit; then captured as
/// earnings that add up to the price, or refunded in full, or still held while it runs).
enum LedgerAudit {
    struct Discrepancy: Sendable, Equatable, CustomStringConvertible {
        var subject: String
        var problem: String
        var description: String { "\(subject): \(problem)" }
    }

    static func run(in db: any SQLDatabase) async throws -> [Discrepancy] {
        try await balances(in: db) + executions(in: db) + danglingReferences(in: db)
    }

    static func balances(in db: any SQLDatabase) async throws -> [Discrepancy] {
        let rows = try await db.raw("""
            SELECT u.id, u.credits_milli, CAST(COALESCE(SUM(t.amount_milli), 0) AS BIGINT) AS ledger
            FROM users u LEFT JOIN credit_transactions t ON t.user_id = u.id
            GROUP BY u.id, u.credits_milli
            HAVING u.credits_milli <> CAST(COALESCE(SUM(t.amount_milli), 0) AS BIGINT)
            """).all()
        return try rows.map { row in
            let balance = try row.decode(column: "credits_milli", as: Int64.self)
            let ledger = try row.decode(column: "ledger", as: Int64.self)
            return Discrepancy(subject: "user \(try row.decode(column: "id", as: String.self))",
                               problem: "balance \(JSONNumber.milli(balance)) but its ledger rows sum to \(JSONNumber.milli(ledger))")
        }
    }

    static func executions(in db: any SQLDatabase) async throws -> [Discrepancy] {
        let rows = try await db.raw("""
            SELECT e.id, e.status, e.credits_used_milli,
                CAST(COALESCE(SUM(CASE WHEN t.type = 'usage' THEN t.amount_milli END), 0) AS BIGINT) AS held,
                CAST(COALESCE(SUM(CASE WHEN t.type = 'earning' THEN t.amount_milli END), 0) AS BIGINT) AS earned,
                CAST(COALESCE(SUM(CASE WHEN t.type = 'refund' THEN t.amount_milli END), 0) AS BIGINT) AS refunded
            FROM executions e LEFT JOIN credit_transactions t ON t.reference_id = e.id
            GROUP BY e.id, e.status, e.credits_used_milli
            """).all()
        var found: [Discrepancy] = []
        for row in rows {
            let id = try row.decode(column: "id", as: String.self)
            let status = try row.decode(column: "status", as: String.self)
            let price = try row.decode(column: "credits_used_milli", as: Int64.self)
            let held = try row.decode(column: "held", as: Int64.self)
            let earned = try row.decode(column: "earned", as: Int64.self)
            let refunded = try row.decode(column: "refunded", as: Int64.self)
            let expected: (earned: Int64, refunded: Int64) = switch status {
            case "completed": (price, 0)
            case "failed", "cancelled": (0, price)
            default: (0, 0)
            }
            func credits(_ milli: Int64) -> String { JSONNumber.milli(milli).text }
            if held != -price {
                found.append(Discrepancy(subject: "execution \(id)", problem: "held \(credits(-held)) for a price of \(credits(price))"))
            }
            if earned != expected.earned || refunded != expected.refunded {
                found.append(Discrepancy(
                    subject: "execution \(id)",
                    problem: "\(status) with earnings \(credits(earned)) and refunds \(credits(refunded)); expected \(credits(expected.earned)) and \(credits(expected.refunded))"))
            }
        }
        return found
    }

    /// Run money that points at no execution came from a bug, not from a run.
    static func danglingReferences(in db: any SQLDatabase) async throws -> [Discrepancy] {
        let rows = try await db.raw("""
            SELECT t.id, t.type, t.reference_id FROM credit_transactions t
            WHERE t.type IN ('usage', 'refund', 'earning')
              AND (t.reference_id IS NULL OR NOT EXISTS (SELECT 1 FROM executions e WHERE e.id = t.reference_id))
            """).all()
        return try rows.map { row in
            Discrepancy(subject: "ledger row \(try row.decode(column: "id", as: String.self))",
                        problem: "\(try row.decode(column: "type", as: String.self)) for no execution (reference \(try row.decode(column: "reference_id", as: String?.self) ?? "none"))")
        }
    }
}
