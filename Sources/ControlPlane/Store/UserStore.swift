import SQLKit

/// Reads and writes `users`. Functions take the `SQLDatabase` of the caller's read or
/// transaction so several steps can share one transaction.
enum UserStore {
    static let columns = """
        id, email, username, full_name, password_hash, avatar_url, bio, role, credits_milli,
        is_active, is_verified, created_at, updated_at
        """

    static func decode(_ row: any SQLRow) throws -> User {
        User(
            id: try row.decode(column: "id", as: String.self),
            email: try row.decode(column: "email", as: String.self),
            username: try row.decode(column: "username", as: String.self),
            fullName: try row.decode(column: "full_name", as: String.self),
            passwordHash: try row.decode(column: "password_hash", as: String.self),
            avatarURL: try row.decode(column: "avatar_url", as: String?.self),
            bio: try row.decode(column: "bio", as: String?.self),
            role: Role(rawValue: try row.decode(column: "role", as: String.self)) ?? .user,
            creditsMilli: try row.decode(column: "credits_milli", as: Int64.self),
            isActive: try row.decode(column: "is_active", as: Bool.self),
            isVerified: try row.decode(column: "is_verified", as: Bool.self),
            createdAt: try row.decode(column: "created_at", as: Int64.self),
            updatedAt: try row.decode(column: "updated_at", as: Int64.self))
    }

    static func find(id: String, in db: any SQLDatabase) async throws -> User? {
        try await db.raw("SELECT \(unsafeRaw: columns) FROM users WHERE id = \(bind: id)").first().map(decode)
    }

    static func find(email: String, in db: any SQLDatabase) async throws -> User? {
        try await db.raw("SELECT \(unsafeRaw: columns) FROM users WHERE email = \(bind: email)").first().map(decode)
    }

    static func usernameTaken(_ username: String, in db: any SQLDatabase) async throws -> Bool {
        try await db.raw("SELECT 1 AS one FROM users WHERE username_key = \(bind: username.lowercased())").first() != nil
    }

    static func insert(_ user: User, in db: any SQLDatabase) async throws {
        try await db.raw("""
            INSERT INTO users (\(unsafeRaw: columns), username_key) VALUES (
                \(bind: user.id), \(bind: user.email), \(bind: user.username), \(bind: user.fullName),
                \(bind: user.passwordHash), \(bind: user.avatarURL), \(bind: user.bio), \(bind: user.role.rawValue),
                \(bind: user.creditsMilli), \(bind: user.isActive), \(bind: user.isVerified),
                \(bind: user.createdAt), \(bind: user.updatedAt), \(bind: user.username.lowercased()))
            """).run()
    }

    static func updateProfile(id: String, fullName: String, bio: String?, avatarURL: String?, in db: any SQLDatabase) async throws {
        try await db.raw("""
            UPDATE users SET full_name = \(bind: fullName), bio = \(bind: bio), avatar_url = \(bind: avatarURL),
                updated_at = \(bind: Timestamp.now()) WHERE id = \(bind: id)
            """).run()
    }

    static func setRole(id: String, role: Role, in db: any SQLDatabase) async throws {
        try await db.raw("UPDATE users SET role = \(bind: role.rawValue), updated_at = \(bind: Timestamp.now()) WHERE id = \(bind: id)").run()
    }

    static func setActive(id: String, active: Bool, in db: any SQLDatabase) async throws {
        try await db.raw("UPDATE users SET is_active = \(bind: active), updated_at = \(bind: Timestamp.now()) WHERE id = \(bind: id)").run()
    }
}
