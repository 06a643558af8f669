import SQLKit

/// One row of `credit_transactions` as the API shows it.
struct LedgerEntry: Sendable {
    var id: String
    var amountMilli: Int64
    var type: LedgerEntryType
    var description: String
    var referenceID: String?
    var createdAt: Int64

    var json: JSONValue {
        [
            "id": .string(id), "amount": .credits(amountMilli), "type": .string(type.rawValue),
            "description": .string(description), "reference_id": JSONValue(optional: referenceID),
            "created_at": .string(Timestamp.iso8601(createdAt)),
        ]
    }
}

/// The read side of the ledger: a user's balance and their rows, newest first.
enum LedgerStore {
    static func balance(userID: String, in db: any SQLDatabase) async throws -> Int64? {
        try await db.raw("SELECT credits_milli FROM users WHERE id = \(bind: userID)").first()?
            .decode(column: "credits_milli", as: Int64.self)
    }

    static func entries(userID: String, type: LedgerEntryType?, skip: Int64, limit: Int64,
                        in db: any SQLDatabase) async throws -> (entries: [LedgerEntry], total: Int64) {
        var filter = SQLQueryString("user_id = \(bind: userID)")
        if let type { filter.appendInterpolation(unsafeRaw: " AND type = "); filter.appendInterpolation(bind: type.rawValue) }
        let total = try await db.raw("SELECT COUNT(*) AS n FROM credit_transactions WHERE \(filter)").first()?
            .decode(column: "n", as: Int64.self) ?? 0
        // The id breaks ties between rows written in the same microsecond, so pages never overlap.
        let rows = try await db.raw("""
            SELECT id, amount_milli, type, description, reference_id, created_at FROM credit_transactions
            WHERE \(filter) ORDER BY created_at DESC, id DESC LIMIT \(bind: limit) OFFSET \(bind: skip)
            """).all()
        let entries = try rows.map { row in
            LedgerEntry(
                id: try row.decode(column: "id", as: String.self),
                amountMilli: try row.decode(column: "amount_milli", as: Int64.self),
                type: LedgerEntryType(rawValue: try row.decode(column: "type", as: String.self)) ?? .usage,
                description: try row.decode(column: "description", as: String.self),
                referenceID: try row.decode(column: "reference_id", as: String?.self),
                createdAt: try row.decode(column: "created_at", as: Int64.self))
        }
        return (entries, total)
    }
}
