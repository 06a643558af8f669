import SQLKit

/// Ends an execution and moves its money, exactly once. The status change is conditional (only
/// a pending or running row ends), and the ledger rows are written in the same transaction, so a
/// result that arrives twice, or after a restart, or races a cancel, settles one time only.
enum Settlement {
    /// The creator's share of a completed run's price, in percent; the platform keeps the rest.
    static let creatorSharePercent: Int64 = 70

    /// The status the execution ended with now, or nil when it had already ended (nothing changed).
    @discardableResult
    static func settle(_ id: String, _ ending: RunEnding, store: Store) async throws -> ExecutionStatus? {
        try await store.transaction { db in try await settle(id, ending, in: db) }
    }

    static func settle(_ id: String, _ ending: RunEnding, in db: any SQLDatabase) async throws -> ExecutionStatus? {
        let now = Timestamp.now()
        let ended = try await db.raw("""
            UPDATE executions SET status = \(bind: ending.status.rawValue), outcome = \(bind: ending.outcome.rawValue),
                outputs = \(bind: ending.outputs?.serializedString()), error_message = \(bind: ending.errorMessage),
                wall_ms = \(bind: ending.wallMs), cpu_ms = \(bind: ending.cpuMs), peak_memory_bytes = \(bind: ending.peakMemoryBytes),
                exit_code = \(bind: ending.exitCode), limit_hit = \(bind: ending.limitHit), logs = \(bind: ending.logs),
                completed_at = \(bind: now), duration_ms = (\(bind: now) - COALESCE(started_at, created_at)) / 1000,
                lease_expires_at = NULL
            WHERE id = \(bind: id) AND status IN ('pending', 'running')
            RETURNING user_id, agent_id, credits_used_milli
            """).first()
        guard let ended else { return nil }
        let userID = try ended.decode(column: "user_id", as: String.self)
        let agentID = try ended.decode(column: "agent_id", as: String.self)
        let price = try ended.decode(column: "credits_used_milli", as: Int64.self)
        // A completed run counts toward the agent's total; the same statement names its creator.
        let agent = ending.status == .completed
            ? try await db.raw("UPDATE agents SET total_runs = total_runs + 1 WHERE id = \(bind: agentID) RETURNING creator_id, name").first()
            : try await db.raw("SELECT creator_id, name FROM agents WHERE id = \(bind: agentID)").first()
        let agentName = try agent?.decode(column: "name", as: String.self) ?? agentID
        if ending.status == .completed {
            let creatorShare = price * creatorSharePercent / 100
            if let creatorID = try agent?.decode(column: "creator_id", as: String.self), creatorShare > 0 {
                try await Ledger.post(userID: creatorID, amountMilli: creatorShare, type: .earning,
                                      description: "Earnings: run of \(agentName)", referenceID: id, in: db)
            }
            if price - creatorShare > 0 {
                try await Ledger.post(userID: SchemaV3.platformAccountID, amountMilli: price - creatorShare, type: .earning,
                                      description: "Platform share: run of \(agentName)", referenceID: id, in: db)
            }
        } else if price > 0 {
            try await Ledger.post(userID: userID, amountMilli: price, type: .refund,
                                  description: "Refund: \(ending.outcome.rawValue) run of \(agentName)", referenceID: id, in: db)
        }
        return ending.status
    }
}
