import Foundation
import Hummingbird
import SQLKit

/// `/api/v1/auth`: signup, login, refresh with rotation and reuse detection, logout, me.
struct AuthRoutes {
    let services: ControlPlaneServices

    func register(in table: RouteTable) {
        table.add(.post, "/api/v1/auth/signup", signup)
        table.add(.post, "/api/v1/auth/login", login)
        table.add(.post, "/api/v1/auth/refresh", refresh)
        table.add(.post, "/api/v1/auth/logout", logout)
        table.add(.get, "/api/v1/auth/me", me)
    }

    @Sendable func signup(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        var body = BodyValidator(try await RequestBody.json(request, context: context))
        let email = body.email("email")
        let username = body.string("username", minLength: 3, maxLength: 20)
        let fullName = body.string("full_name", minLength: 1, maxLength: 200)
        let password = body.string("password", minLength: 8, maxLength: 200)
        if let username, !username.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }) {
            body.fail("username", "Username may contain only letters, digits, '.', '-' and '_'")
        }
        if let password, let problem = PasswordRules.problems(password) { body.fail("password", problem) }
        try body.finish()
        guard let email, let username, let fullName, let password else { throw APIError.badRequest("Invalid body") }

        let hash = try await services.passwords.hash(password)
        let now = Timestamp.now()
        let user = User(id: RandomID.uuid(), email: email, username: username, fullName: fullName,
                        passwordHash: hash, avatarURL: nil, bio: nil, role: .user, creditsMilli: 0,
                        isActive: true, isVerified: false, createdAt: now, updatedAt: now)
        let welcome = services.settings.welcomeCreditsMilli
        let created: User
        do {
            created = try await services.store.transaction { db in
                if try await UserStore.find(email: email, in: db) != nil { throw APIError.badRequest("Email already registered") }
                if try await UserStore.usernameTaken(username, in: db) { throw APIError.badRequest("Username already taken") }
                try await UserStore.insert(user, in: db)
                if welcome > 0 {
                    try await Ledger.post(userID: user.id, amountMilli: welcome, type: .purchase,
                                          description: "Welcome credits", referenceID: "welcome", in: db)
                }
                return try await UserStore.find(id: user.id, in: db) ?? user
            }
        } catch where ConstraintViolation.isUnique(error, named: "email") {
            throw APIError.badRequest("Email already registered")  // lost a race with an identical signup
        } catch where ConstraintViolation.isUnique(error, named: "username") {
            throw APIError.badRequest("Username already taken")
        }
        return JSONResponse.make(.created, try await issueTokens(for: created))
    }

    @Sendable func login(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        var body = BodyValidator(try await RequestBody.json(request, context: context))
        let email = body.string("email", maxLength: 320)
        let password = body.string("password", maxLength: 200)
        try body.finish()
        guard let email, let password else { throw APIError.badRequest("Invalid body") }
        let account = email.lowercased()

        // Admitting counts the attempt as a failure until it succeeds (parallel guesses are counted too).
        if let wait = await services.loginLimiter.admit(account: account, address: context.clientAddress) {
            throw APIError(.tooManyRequests, "Too many failed login attempts; try again later",
                           headers: [.retryAfter: String(wait)])
        }
        let user = try await services.store.read { db in try await UserStore.find(email: account, in: db) }
        // Unknown emails still pay for one bcrypt verification, so timing does not reveal
        // which emails have accounts.
        let matches = try await services.passwords.verify(password, hash: user?.passwordHash ?? services.decoyPasswordHash)
        guard let user, matches else { throw APIError.unauthorized("Incorrect email or password") }
        await services.loginLimiter.recordSuccess(account: account, address: context.clientAddress)
        guard user.isActive else { throw APIError.forbidden("User account is deactivated") }
        return JSONResponse.make(.ok, try await issueTokens(for: user))
    }

    @Sendable func refresh(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        var body = BodyValidator(try await RequestBody.json(request, context: context))
        let token = body.string("refresh_token", maxLength: 512)
        try body.finish()
        guard let token else { throw APIError.badRequest("Invalid body") }

        enum Outcome: Sendable { case rotated(User, refreshToken: String), reused, invalid }
        let lifetime = refreshLifetimeMicros
        let outcome: Outcome = try await services.store.transaction { db in
            guard let record = try await RefreshTokenStore.find(token: token, in: db) else { return .invalid }
            if record.revokedAt != nil { return .invalid }
            if record.usedAt != nil {
                // A spent token came back: someone holds a copy. End the whole chain, for the
                // thief and the owner alike; the owner logs in again.
                try await RefreshTokenStore.revokeFamily(record.familyID, in: db)
                return .reused
            }
            guard record.expiresAt > Timestamp.now() else { return .invalid }
            guard try await RefreshTokenStore.markUsed(id: record.id, in: db) else {
                // Spent by a concurrent request a moment ago: the same reuse, the same response.
                try await RefreshTokenStore.revokeFamily(record.familyID, in: db)
                return .reused
            }
            guard let user = try await UserStore.find(id: record.userID, in: db), user.isActive else { return .invalid }
            // The successor is written in the same transaction that spends its predecessor.
            let successor = SecureRandom.token()
            try await RefreshTokenStore.insert(token: successor, userID: user.id, familyID: record.familyID,
                                               expiresAt: Timestamp.now() + lifetime, in: db)
            return .rotated(user, refreshToken: successor)
        }
        switch outcome {
        case .rotated(let user, let refreshToken):
            return JSONResponse.make(.ok, try await tokenPair(for: user, refreshToken: refreshToken))
        case .reused:
            throw APIError.unauthorized("Refresh token already used; all sessions of this login were revoked")
        case .invalid:
            throw APIError.unauthorized("Invalid refresh token")
        }
    }

    @Sendable func logout(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let user = try await services.authenticator.user(request)
        try await services.store.transaction { db in try await RefreshTokenStore.revokeAll(userID: user.id, in: db) }
        return JSONResponse.make(.ok, ["message": "Successfully logged out"])
    }

    @Sendable func me(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        JSONResponse.make(.ok, try await services.authenticator.user(request).json)
    }

    private var refreshLifetimeMicros: Int64 { Int64(services.tokens.refreshTokenLifetime * 1_000_000) }

    /// Tokens for a new login: a new refresh-token family.
    private func issueTokens(for user: User) async throws -> JSONValue {
        let refresh = SecureRandom.token()
        let expires = Timestamp.now() + refreshLifetimeMicros
        try await services.store.transaction { db in
            try await RefreshTokenStore.insert(token: refresh, userID: user.id, familyID: RandomID.uuid(),
                                               expiresAt: expires, in: db)
        }
        return try await tokenPair(for: user, refreshToken: refresh)
    }

    private func tokenPair(for user: User, refreshToken refresh: String) async throws -> JSONValue {
        let access = try await services.tokens.accessToken(for: user.id)
        return [
            "access_token": .string(access), "refresh_token": .string(refresh), "token_type": "bearer",
            "expires_in": .number(JSONNumber(Int64(services.tokens.accessTokenLifetime))), "user": user.json,
        ]
    }
}
