import SQLKit

enum CreatorStatsStore {
    /// The creator dashboard's headline figures, from the agents and the creator's ledger.
    /// PostgreSQL's SUM of a BIGINT is NUMERIC, hence the casts back to BIGINT.
    static func stats(creatorID: String, in db: any SQLDatabase) async throws -> JSONValue {
        let agents = try await db.raw("""
            SELECT COUNT(*) AS total,
                   COALESCE(SUM(CASE WHEN status = 'active' THEN 1 ELSE 0 END), 0) AS active,
                   COALESCE(SUM(CASE WHEN status = 'pending_review' THEN 1 ELSE 0 END), 0) AS pending,
                   CAST(COALESCE(SUM(total_runs), 0) AS BIGINT) AS runs,
                   CAST(COALESCE(SUM(total_reviews), 0) AS BIGINT) AS reviews,
                   COALESCE(SUM(rating * total_reviews), 0) AS rating_weight
            FROM agents WHERE creator_id = \(bind: creatorID)
            """).first()
        let earnings = try await db.raw("""
            SELECT CAST(COALESCE(SUM(amount_milli), 0) AS BIGINT) AS earned FROM credit_transactions
            WHERE user_id = \(bind: creatorID) AND type = 'earning'
            """).first()
        let reviews = try agents?.decode(column: "reviews", as: Int64.self) ?? 0
        let weight = try agents?.decode(column: "rating_weight", as: Double.self) ?? 0
        let average = reviews > 0 ? (weight / Double(reviews) * 100).rounded() / 100 : 0
        return [
            "total_agents": .number(JSONNumber(try agents?.decode(column: "total", as: Int64.self) ?? 0)),
            "active_agents": .number(JSONNumber(try agents?.decode(column: "active", as: Int64.self) ?? 0)),
            "pending_agents": .number(JSONNumber(try agents?.decode(column: "pending", as: Int64.self) ?? 0)),
            "total_runs": .number(JSONNumber(try agents?.decode(column: "runs", as: Int64.self) ?? 0)),
            "total_reviews": .number(JSONNumber(reviews)),
            "average_rating": .number(JSONNumber(average)),
            "total_earnings": .credits(try earnings?.decode(column: "earned", as: Int64.self) ?? 0),
        ]
    }
}
