/// Agent code: bundles stored content-addressed by the SHA-256 of the .tar.gz, in the database
/// so every control-plane node on one PostgreSQL can send any bundle to any runner. `manifest`
/// is the validated agent.yaml as JSON (entrypoint, workdir, profile, limits, output_schema).
/// BYTEA is a type name both engines accept (SQLite stores the blob as given).
enum SchemaV2 {
    static let migration = Migration(version: 2, name: "agent bundles", statements: [
        """
        CREATE TABLE agent_bundles (
            sha256 TEXT PRIMARY KEY,
            archive BYTEA NOT NULL,
            size_bytes BIGINT NOT NULL CHECK (size_bytes > 0),
            manifest TEXT NOT NULL,
            created_at BIGINT NOT NULL)
        """,
    ])
}
