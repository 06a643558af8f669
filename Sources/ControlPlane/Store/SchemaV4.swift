/// Indexes that change less with every run. A run's status changes twice (pending → running →
/// ended), and every index holding `status` moved its entry each time: more pages written per
/// transaction. The queue's and the leases' indexes now hold only the rows they serve (pending,
/// running), so they stay a page or two however many runs have ended; the agent's index keeps
/// what a foreign-key check and an agent's runs need, without the status.
enum SchemaV4 {
    static let migration = Migration(version: 4, name: "partial queue indexes", statements: [
        "DROP INDEX executions_pending",
        "CREATE INDEX executions_pending ON executions (created_at) WHERE status = 'pending'",
        "DROP INDEX executions_running_lease",
        "CREATE INDEX executions_running_lease ON executions (lease_expires_at) WHERE status = 'running'",
        "DROP INDEX executions_agent",
        "CREATE INDEX executions_agent ON executions (agent_id)",
    ])
}
