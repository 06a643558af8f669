import Foundation
import SQLKit

struct RefreshTokenRecord: Sendable {
    var id: String
    var userID: String
    var familyID: String
    var expiresAt: Int64
    var usedAt: Int64?
    var revokedAt: Int64?
}

/// Refresh tokens are opaque random strings; only their SHA-256 is stored, so a copy of the
/// database does not hand out sessions.
enum RefreshTokenStore {
    static func insert(token: String, userID: String, familyID: String, expiresAt: Int64, in db: any SQLDatabase) async throws {
        try await db.raw("""
            INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, created_at, expires_at)
            VALUES (\(bind: RandomID.uuid()), \(bind: userID), \(bind: familyID),
                    \(bind: SecureRandom.sha256Hex(token)), \(bind: Timestamp.now()), \(bind: expiresAt))
            """).run()
    }

    static func find(token: String, in db: any SQLDatabase) async throws -> RefreshTokenRecord? {
        guard let row = try await db.raw("""
            SELECT id, user_id, family_id, expires_at, used_at, revoked_at FROM refresh_tokens
            WHERE token_hash = \(bind: SecureRandom.sha256Hex(token))
            """).first() else { return nil }
        return RefreshTokenRecord(
            id: try row.decode(column: "id", as: String.self),
            userID: try row.decode(column: "user_id", as: String.self),
            familyID: try row.decode(column: "family_id", as: String.self),
            expiresAt: try row.decode(column: "expires_at", as: Int64.self),
            usedAt: try row.decode(column: "used_at", as: Int64?.self),
            revokedAt: try row.decode(column: "revoked_at", as: Int64?.self))
    }

    /// Marks the token spent; false when another request spent it first (a concurrent reuse).
    static func markUsed(id: String, in db: any SQLDatabase) async throws -> Bool {
        let rows = try await db.raw("""
            UPDATE refresh_tokens SET used_at = \(bind: Timestamp.now())
            WHERE id = \(bind: id) AND used_at IS NULL AND revoked_at IS NULL RETURNING id
            """).all()
        return !rows.isEmpty
    }

    static func revokeFamily(_ familyID: String, in db: any SQLDatabase) async throws {
        try await db.raw("""
            UPDATE refresh_tokens SET revoked_at = \(bind: Timestamp.now())
            WHERE family_id = \(bind: familyID) AND revoked_at IS NULL
            """).run()
    }

    static func revokeAll(userID: String, in db: any SQLDatabase) async throws {
        try await db.raw("""
            UPDATE refresh_tokens SET revoked_at = \(bind: Timestamp.now())
            WHERE user_id = \(bind: userID) AND revoked_at IS NULL
            """).run()
    }
}
