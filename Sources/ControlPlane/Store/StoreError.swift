import PostgresNIO

public enum StoreError: Error, CustomStringConvertible {
    case badLocation(String)
    case migrationFailed(version: Int, name: String, underlying: String)
    case newerSchema(found: Int, known: Int)

    public var description: String {
        switch self {
        case .badLocation(let message): message
        case .migrationFailed(let version, let name, let underlying): "migration \(version) (\(name)) failed: \(underlying)"
        case .newerSchema(let found, let known):
            "the database is at schema version \(found), newer than this build knows (\(known)); refusing to run an older build against it"
        }
    }
}

/// Recognizes a unique-constraint violation from either engine, so a race between a check and
/// an insert ("is this email taken?") still ends in the right 400, not a 500.
enum ConstraintViolation {
    /// True when `error` is a unique violation; `named` matches the index or column name.
    static func isUnique(_ error: any Error, named name: String) -> Bool {
        if let error = error as? PSQLError, let info = error.serverInfo {
            return info[.sqlState] == "23505" && (info[.constraintName] ?? "").contains(name)
        }
        if let error = error as? SQLiteFailure {
            return error.message.contains("UNIQUE constraint failed") && error.message.contains(name)
        }
        return false
    }
}
