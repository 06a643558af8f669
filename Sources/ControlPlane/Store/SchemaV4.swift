/// Indexes that change less with every run. A run's status changes twice (pending → running →
/// ended), and every index holding `status` moved its entry each time: more pages written per
/// transaction. The queue's and the leases' indexes now hold only the rows they serve (pending,
/// running), so they stay a page or two however many runs have ended; the agent's index keeps
/// what a foreign-key check and an agent's runs need, without the status. A run writes three
/// ledger rows: the once-per-reference rule's unique index now covers every row (NULL
/// references never conflict, in SQLite as in PostgreSQL), so it also serves the listing by
/// type and the separate `(user_id, type)` index goes.
enum SchemaV4 {
    static let migration = Migration(version: 4, name: "leaner run indexes", statements: [
        "DROP INDEX executions_pending",
        "CREATE INDEX executions_pending ON executions (created_at) WHERE status = 'pending'",
        "DROP INDEX executions_running_lease",
        "CREATE INDEX executions_running_lease ON executions (lease_expires_at) WHERE status = 'running'",
        "DROP INDEX executions_agent",
        "CREATE INDEX executions_agent ON executions (agent_id)",
        "DROP INDEX credit_transactions_user_type",
        "DROP INDEX credit_transactions_reference_unique",
        "CREATE UNIQUE INDEX credit_transactions_reference_unique ON credit_transactions (user_id, type, reference_id)",
    ])
}
