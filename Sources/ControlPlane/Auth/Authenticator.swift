import HTTPTypes
import Hummingbird

/// Resolves `Authorization: Bearer …` to an active user, reading the user fresh each time.
struct Authenticator: Sendable {
    let tokens: TokenService
    let store: Store

    func user(_ request: Request) async throws -> User {
        guard let header = request.headers[.authorization] else { throw APIError.unauthorized("Not authenticated") }
        // A token has no blanks inside, so the value is exactly two words, however spaced. (Split
        // as bytes: splitting the String walks it character by character.)
        let parts = header.utf8.split(whereSeparator: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") })
        guard parts.count == 2, String(Substring(parts[0])).lowercased() == "bearer" else { throw APIError.unauthorized("Not authenticated") }
        guard let userID = await tokens.verifyAccessToken(String(Substring(parts[1]))) else {
            throw APIError.unauthorized("Invalid authentication credentials")
        }
        guard let user = try await store.read({ db in try await UserStore.find(id: userID, in: db) }) else {
            throw APIError.unauthorized("Invalid authentication credentials")
        }
        // A deactivated user's unexpired tokens stop working at once.
        guard user.isActive else { throw APIError.unauthorized("Inactive user") }
        return user
    }
}
