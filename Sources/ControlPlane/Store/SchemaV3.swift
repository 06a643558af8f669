/// What the execution loop needs beyond v1's executions table: the run's exit code, limit and
/// stderr; which control-plane node dispatched it and until when its claim holds (another node
/// recovers a run whose lease ran out); a cancel asked for while it runs. And the platform's
/// account, which receives the platform's share of every paid run as ledger rows like anyone's.
enum SchemaV3 {
    /// The nil UUID: an account nobody can sign in to (inactive, no usable password hash).
    static let platformAccountID = "00000000-0000-0000-0000-000000000000"

    static let migration = Migration(version: 3, name: "execution dispatch", statements: [
        "ALTER TABLE executions ADD COLUMN exit_code BIGINT",
        "ALTER TABLE executions ADD COLUMN limit_hit TEXT",
        "ALTER TABLE executions ADD COLUMN logs TEXT",
        "ALTER TABLE executions ADD COLUMN dispatch_node TEXT",
        "ALTER TABLE executions ADD COLUMN lease_expires_at BIGINT",
        "ALTER TABLE executions ADD COLUMN cancel_requested BOOLEAN NOT NULL DEFAULT FALSE",
        "CREATE INDEX executions_running_lease ON executions (status, lease_expires_at)",
        """
        INSERT INTO users (id, email, username, username_key, full_name, password_hash, role, credits_milli,
                           is_active, is_verified, created_at, updated_at)
        VALUES ('\(platformAccountID)', 'platform@agentgrid.invalid', 'agentgrid-platform', 'agentgrid-platform',
                'AgentGrid platform', '!', 'user', 0, FALSE, TRUE, 0, 0)
        """,
    ])
}
