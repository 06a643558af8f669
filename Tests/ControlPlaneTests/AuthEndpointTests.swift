import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SQLKit
import Testing
@testable import ControlPlane

/// `/api/v1/auth/*` against API.md, on both stores: signup, login (with throttling), refresh
/// (rotation, reuse detection, races), logout, me.
@Suite struct AuthEndpointTests {
    private static let signup = "/api/v1/auth/signup"
    private static let login = "/api/v1/auth/login"
    private static let refresh = "/api/v1/auth/refresh"
    private static let logout = "/api/v1/auth/logout"
    private static let me = "/api/v1/auth/me"

    /// Exactly the fields of API.md's user object.
    static let userFields: Set<String> = [
        "id", "email", "username", "full_name", "avatar_url", "bio", "role", "credits", "is_active", "is_verified",
        "created_at", "updated_at",
    ]

    private static func signupBody(email: String, username: String, fullName: String = "Some One",
                                   password: String = "Passw0rdOK") -> JSONValue {
        ["email": .string(email), "username": .string(username), "full_name": .string(fullName), "password": .string(password)]
    }

    private static func credentials(_ email: String, _ password: String) -> JSONValue {
        ["email": .string(email), "password": .string(password)]
    }

    private static func userCount(_ server: TestServer) async throws -> Int64 {
        try await server.store.read { db in
            try await db.raw("SELECT COUNT(*) AS n FROM users WHERE id <> \(bind: SchemaV3.platformAccountID)").first()?.decode(column: "n", as: Int64.self) ?? -1
        }
    }

    /// A 401 as API.md has it: the message and `WWW-Authenticate: Bearer`.
    private static func expectUnauthorized(_ response: APIResponse, _ detail: String? = nil,
                                           sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(response.status == .unauthorized, "\(response.text)", sourceLocation: sourceLocation)
        #expect(response.headers[.wwwAuthenticate] == "Bearer", sourceLocation: sourceLocation)
        if let detail { #expect(response.detail == detail, sourceLocation: sourceLocation) }
        #expect(response.json["access_token"] == nil && response.json["refresh_token"] == nil, sourceLocation: sourceLocation)
    }

    /// A token pair response: both tokens, `bearer`, and the user.
    private static func expectTokenPair(_ response: APIResponse, email: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(response.json["token_type"] == "bearer", sourceLocation: sourceLocation)
        let access = response.json["access_token"]?.stringValue ?? ""
        #expect(access.split(separator: ".", omittingEmptySubsequences: false).count == 3, "a JWT", sourceLocation: sourceLocation)
        #expect((response.json["refresh_token"]?.stringValue ?? "").count >= 32, sourceLocation: sourceLocation)
        #expect(response.json["user"]?["email"]?.stringValue == email, sourceLocation: sourceLocation)
    }

    // MARK: Signup

    @Test(arguments: StoreKind.allCases)
    func signupReturnsTokensAndUserWithOneWelcomeLedgerRow(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let response = try await server.post(Self.signup, Self.signupBody(
                email: "Alice.Smith@Example.COM", username: "Alice_1", fullName: "Alice Smith", password: "Passw0rdOK"))
            #expect(response.status == .created, "\(response.text)")
            Self.expectTokenPair(response, email: "alice.smith@example.com")
            let user = try #require(response.json["user"]?.objectValue)
            #expect(Set(user.keys) == Self.userFields)
            #expect(user["username"] == "Alice_1")
            #expect(user["full_name"] == "Alice Smith")
            #expect(user["role"] == "user")
            #expect(user["credits"] == 100)
            #expect(user["is_active"] == true)
            #expect(user["is_verified"] == false)
            #expect(user["bio"] == .null && user["avatar_url"] == .null)
            let id = try #require(user["id"]?.stringValue)
            #expect(UUID(uuidString: id) != nil)

            // Stored: normalized email, a bcrypt hash, and the hash nowhere in what went out.
            let stored = try #require(try await server.store.read { db in try await UserStore.find(id: id, in: db) })
            #expect(stored.email == "alice.smith@example.com")
            #expect(stored.passwordHash.hasPrefix("$2") && stored.passwordHash != "Passw0rdOK")
            #expect(!response.text.contains(stored.passwordHash))
            #expect(!response.text.lowercased().contains("password"))
            #expect(!response.text.contains("$2"))

            // The welcome credit is one ledger row, and the ledger adds up to the balance.
            let rows = try await server.store.read { db in
                try await db.raw("SELECT amount_milli, type FROM credit_transactions WHERE user_id = \(bind: id)").all()
            }
            #expect(rows.count == 1)
            #expect(try rows.first?.decode(column: "amount_milli", as: Int64.self) == 100_000)
            #expect(try rows.first?.decode(column: "type", as: String.self) == "purchase")
            let sum = try await server.store.read { db in try await Ledger.sum(userID: id, in: db) }
            #expect(sum == stored.creditsMilli)
            #expect(stored.creditsMilli == 100_000)

            // The tokens work, and login takes the email in any case.
            let me = try await server.get(Self.me, token: response.json["access_token"]?.stringValue)
            #expect(me.status == .ok)
            #expect(me.json["id"]?.stringValue == id)
            let login = try await server.post(Self.login, Self.credentials("ALICE.smith@example.com", "Passw0rdOK"))
            #expect(login.status == .ok, "\(login.text)")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func duplicateEmailInAnyCaseIsRejected(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            _ = try await server.signUp("alice")
            for email in ["alice@example.com", "ALICE@Example.com"] {
                let again = try await server.post(Self.signup, Self.signupBody(email: email, username: "other\(email.count)"))
                #expect(again.status == .badRequest)
                #expect(again.detail == "Email already registered")
            }
            #expect(try await Self.userCount(server) == 1)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func duplicateUsernameIgnoringCaseIsRejected(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let first = try await server.post(Self.signup, Self.signupBody(email: "bob@example.com", username: "Bob"))
            #expect(first.status == .created)
            for (i, username) in ["Bob", "bob", "BOB"].enumerated() {
                let again = try await server.post(Self.signup, Self.signupBody(email: "bob\(i)@example.com", username: username))
                #expect(again.status == .badRequest)
                #expect(again.detail == "Username already taken")
            }
            #expect(try await Self.userCount(server) == 1)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func passwordRulesAreEnforced(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let cases: [(password: String, message: String)] = [
                ("passw0rdok", "Value error, Password must contain at least one uppercase letter"),
                ("PASSW0RDOK", "Value error, Password must contain at least one lowercase letter"),
                ("PasswordOK", "Value error, Password must contain at least one digit"),
                ("Pa55w0r", "String should have at least 8 characters"),
            ]
            for (i, c) in cases.enumerated() {
                let response = try await server.post(Self.signup, Self.signupBody(
                    email: "p\(i)@example.com", username: "puser\(i)", password: c.password))
                #expect(response.status == .unprocessableContent, "\(c.password): \(response.text)")
                #expect(response.issueLocations == ["body.password"], "\(c.password)")
                #expect(response.json["detail"]?[0]?["msg"]?.stringValue == c.message, "\(c.password)")
            }
            #expect(try await Self.userCount(server) == 0)
            // Exactly eight characters with all three kinds is enough.
            let ok = try await server.post(Self.signup, Self.signupBody(email: "ok@example.com", username: "okuser", password: "Passw0rd"))
            #expect(ok.status == .created, "\(ok.text)")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func usernameMustBeThreeToTwentyCharacters(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            for (i, username) in ["ab", String(repeating: "u", count: 21)].enumerated() {
                let response = try await server.post(Self.signup, Self.signupBody(email: "bad\(i)@example.com", username: username))
                #expect(response.status == .unprocessableContent, "\(username)")
                #expect(response.issueLocations == ["body.username"], "\(username)")
            }
            for (i, username) in ["abc", String(repeating: "v", count: 20)].enumerated() {
                let response = try await server.post(Self.signup, Self.signupBody(email: "good\(i)@example.com", username: username))
                #expect(response.status == .created, "\(username): \(response.text)")
                #expect(response.json["user"]?["username"]?.stringValue == username)
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func missingFieldsAreAllListed(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let response = try await server.post(Self.signup, [:])
            #expect(response.status == .unprocessableContent)
            #expect(Set(response.issueLocations) == ["body.email", "body.username", "body.full_name", "body.password"])
            #expect(response.issueLocations.count == 4)
            let types = response.json["detail"]?.arrayValue?.compactMap { $0["type"]?.stringValue }
            #expect(types == ["missing", "missing", "missing", "missing"])

            let badEmail = try await server.post(Self.signup, Self.signupBody(email: "not-an-email", username: "someone"))
            #expect(badEmail.status == .unprocessableContent)
            #expect(badEmail.issueLocations == ["body.email"])
            #expect(try await Self.userCount(server) == 0)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func concurrentIdenticalSignupsCreateExactlyOneUser(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            // Same email, distinct usernames: the loser's message must be about the email.
            let sameEmail = try await server.postConcurrently(Self.signup, (0..<8).map { i in
                Self.signupBody(email: i % 2 == 0 ? "race@example.com" : "RACE@example.com", username: "racer\(i)")
            })
            #expect(sameEmail.filter { $0.status == .created }.count == 1, "\(sameEmail.map(\.status.code))")
            for response in sameEmail where response.status != .created {
                #expect(response.status == .badRequest, "\(response.text)")
                #expect(response.detail == "Email already registered")
            }

            // Same username (in different cases), distinct emails.
            let sameName = try await server.postConcurrently(Self.signup, (0..<8).map { i in
                Self.signupBody(email: "name\(i)@example.com", username: i % 2 == 0 ? "Samename" : "samename")
            })
            #expect(sameName.filter { $0.status == .created }.count == 1, "\(sameName.map(\.status.code))")
            for response in sameName where response.status != .created {
                #expect(response.status == .badRequest, "\(response.text)")
                #expect(response.detail == "Username already taken")
            }

            #expect(try await Self.userCount(server) == 2)
            let ledgerRows = try await server.store.read { db in
                try await db.raw("SELECT COUNT(*) AS n FROM credit_transactions").first()?.decode(column: "n", as: Int64.self)
            }
            #expect(ledgerRows == 2, "one welcome row per created user, none for the losers")
        }
    }

    // MARK: Login

    @Test(arguments: StoreKind.allCases)
    func loginReturnsANewSession(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let alice = try await server.signUp("alice")
            let response = try await server.post(Self.login, Self.credentials("alice@example.com", alice.password))
            #expect(response.status == .ok, "\(response.text)")
            Self.expectTokenPair(response, email: "alice@example.com")
            #expect(response.json["user"]?["id"]?.stringValue == alice.id)
            #expect(Set(response.json["user"]?.objectValue?.keys ?? []) == Self.userFields)
            #expect(response.json["refresh_token"]?.stringValue != alice.refreshToken)
            let me = try await server.get(Self.me, token: response.json["access_token"]?.stringValue)
            #expect(me.status == .ok)
            #expect(me.json["id"]?.stringValue == alice.id)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func wrongPasswordAndUnknownEmailGetTheSame401(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            _ = try await server.signUp("alice")
            let wrong = try await server.post(Self.login, Self.credentials("alice@example.com", "Wrong0Password"))
            Self.expectUnauthorized(wrong, "Incorrect email or password")
            let unknown = try await server.post(Self.login, Self.credentials("nobody@example.com", "Passw0rdOK"))
            Self.expectUnauthorized(unknown, "Incorrect email or password")
            #expect(wrong.body == unknown.body, "the two failures must not be told apart")
            let missing = try await server.post(Self.login, ["email": "alice@example.com"])
            #expect(missing.status == .unprocessableContent)
            #expect(missing.issueLocations == ["body.password"])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func deactivatedUserCannotLogIn(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let alice = try await server.signUp("alice")
            try await server.store.transaction { db in try await UserStore.setActive(id: alice.id, active: false, in: db) }
            let response = try await server.post(Self.login, Self.credentials(alice.email, alice.password))
            #expect(response.status == .forbidden)
            #expect(response.detail != nil)
            #expect(response.json["access_token"] == nil)
            // A wrong password still says only that the credentials are wrong.
            let wrong = try await server.post(Self.login, Self.credentials(alice.email, "Wrong0Password"))
            Self.expectUnauthorized(wrong, "Incorrect email or password")
        }
    }

    private static func throttled(perAccount: Int, perAddress: Int) -> ControlPlaneSettings {
        var settings = TestServer.settings()
        settings.loginLimits = .init(perAccount: perAccount, perAddress: perAddress, window: 300)
        return settings
    }

    private static func expectThrottled(_ response: APIResponse, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(response.status == .tooManyRequests, "\(response.text)", sourceLocation: sourceLocation)
        let retryAfter = response.headers[.retryAfter].flatMap { Int($0) }
        #expect(retryAfter.map { (1...300).contains($0) } == true, "Retry-After: \(response.headers[.retryAfter] ?? "none")",
                sourceLocation: sourceLocation)
        #expect(response.detail != nil, sourceLocation: sourceLocation)
        #expect(response.json["access_token"] == nil, sourceLocation: sourceLocation)
    }

    @Test(arguments: StoreKind.allCases)
    func failuresForOneAccountAreThrottledEvenWithTheRightPassword(_ kind: StoreKind) async throws {
        try await TestServer.run(kind, settings: Self.throttled(perAccount: 3, perAddress: 1_000)) { server in
            let alice = try await server.signUp("alice")
            let bob = try await server.signUp("bob")
            // The account key ignores case: these all count against alice.
            for email in ["alice@example.com", "ALICE@example.com", "Alice@Example.com"] {
                let response = try await server.post(Self.login, Self.credentials(email, "Wrong0Password"))
                Self.expectUnauthorized(response, "Incorrect email or password")
            }
            Self.expectThrottled(try await server.post(Self.login, Self.credentials(alice.email, "Wrong0Password")))
            // The right password does not get through while throttled: brute force cannot go on.
            Self.expectThrottled(try await server.post(Self.login, Self.credentials(alice.email, alice.password)))
            // Another account from the same address is not affected.
            let other = try await server.post(Self.login, Self.credentials(bob.email, bob.password))
            #expect(other.status == .ok, "\(other.text)")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aSuccessfulLoginClearsTheAccountsFailures(_ kind: StoreKind) async throws {
        try await TestServer.run(kind, settings: Self.throttled(perAccount: 3, perAddress: 1_000)) { server in
            let alice = try await server.signUp("alice")
            for _ in 0..<2 { Self.expectUnauthorized(try await server.post(Self.login, Self.credentials(alice.email, "Wrong0Password"))) }
            #expect(try await server.post(Self.login, Self.credentials(alice.email, alice.password)).status == .ok)
            for _ in 0..<2 { Self.expectUnauthorized(try await server.post(Self.login, Self.credentials(alice.email, "Wrong0Password"))) }
            #expect(try await server.post(Self.login, Self.credentials(alice.email, alice.password)).status == .ok)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func failuresFromOneAddressAreThrottledAcrossAccounts(_ kind: StoreKind) async throws {
        try await TestServer.run(kind, settings: Self.throttled(perAccount: 1_000, perAddress: 3)) { server in
            let alice = try await server.signUp("alice")
            for i in 0..<3 {
                Self.expectUnauthorized(try await server.post(Self.login, Self.credentials("guess\(i)@example.com", "Passw0rdOK")),
                                        "Incorrect email or password")
            }
            Self.expectThrottled(try await server.post(Self.login, Self.credentials("guess9@example.com", "Passw0rdOK")))
            Self.expectThrottled(try await server.post(Self.login, Self.credentials(alice.email, alice.password)))
        }
    }

    @Test(arguments: StoreKind.allCases)
    func parallelGuessesCannotOutrunTheThrottle(_ kind: StoreKind) async throws {
        try await TestServer.run(kind, settings: Self.throttled(perAccount: 3, perAddress: 1_000)) { server in
            let alice = try await server.signUp("alice")
            let statuses = try await server.postConcurrently(Self.login, (0..<12).map { i in
                Self.credentials(alice.email, "Wrong0Guess\(i)")
            }).map(\.status)
            #expect(statuses.allSatisfy { $0 == .unauthorized || $0 == .tooManyRequests }, "\(statuses.map(\.code))")
            // Each 401 was a password actually tried: no more than the limit, however they arrive.
            #expect(statuses.filter { $0 == .unauthorized }.count == 3, "\(statuses.map(\.code))")
            Self.expectThrottled(try await server.post(Self.login, Self.credentials(alice.email, alice.password)))
        }
    }

    // MARK: Refresh

    @Test(arguments: StoreKind.allCases)
    func refreshRotatesThePair(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let alice = try await server.signUp("alice")
            let first = try await server.post(Self.refresh, ["refresh_token": .string(alice.refreshToken)])
            #expect(first.status == .ok, "\(first.text)")
            Self.expectTokenPair(first, email: alice.email)
            let refreshed = try #require(first.json["refresh_token"]?.stringValue)
            #expect(refreshed != alice.refreshToken)
            #expect(try await server.get(Self.me, token: first.json["access_token"]?.stringValue).status == .ok)

            // The old one is spent; the new one rotates again.
            Self.expectUnauthorized(try await server.post(Self.refresh, ["refresh_token": .string(alice.refreshToken)]))
            // (which revoked the family, so log in again for a fresh one)
            let login = try await server.post(Self.login, Self.credentials(alice.email, alice.password))
            let fresh = try #require(login.json["refresh_token"]?.stringValue)
            let second = try await server.post(Self.refresh, ["refresh_token": .string(fresh)])
            #expect(second.status == .ok)
            let third = try await server.post(Self.refresh, ["refresh_token": second.json["refresh_token"] ?? .null])
            #expect(third.status == .ok)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func reusingASpentTokenRevokesItsFamilyOnly(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let alice = try await server.signUp("alice")
            let rotated = try await server.post(Self.refresh, ["refresh_token": .string(alice.refreshToken)])
            let newest = try #require(rotated.json["refresh_token"]?.stringValue)
            // A second login of the same user is a separate family.
            let otherLogin = try await server.post(Self.login, Self.credentials(alice.email, alice.password))
            let otherToken = try #require(otherLogin.json["refresh_token"]?.stringValue)

            // The spent token comes back (a thief's copy, say).
            Self.expectUnauthorized(try await server.post(Self.refresh, ["refresh_token": .string(alice.refreshToken)]))
            // The newest token of that family is dead too, and stays dead.
            Self.expectUnauthorized(try await server.post(Self.refresh, ["refresh_token": .string(newest)]))
            let record = try await server.store.read { db in try await RefreshTokenStore.find(token: newest, in: db) }
            #expect(record?.revokedAt != nil)
            // The other login's family keeps working.
            let other = try await server.post(Self.refresh, ["refresh_token": .string(otherToken)])
            #expect(other.status == .ok, "\(other.text)")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func refreshRejectsAccessTokensAndGarbage(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let alice = try await server.signUp("alice")
            for bogus in [alice.accessToken, "garbage", "", String(alice.refreshToken.dropLast()) + "A", alice.refreshToken.uppercased()]
                where bogus != alice.refreshToken {
                Self.expectUnauthorized(try await server.post(Self.refresh, ["refresh_token": .string(bogus)]))
            }
            let missing = try await server.post(Self.refresh, [:])
            #expect(missing.status == .unprocessableContent)
            #expect(missing.issueLocations == ["body.refresh_token"])
            // None of that touched the real token.
            #expect(try await server.post(Self.refresh, ["refresh_token": .string(alice.refreshToken)]).status == .ok)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func concurrentUseOfOneRefreshTokenSucceedsAtMostOnce(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let alice = try await server.signUp("alice")
            let responses = try await server.postConcurrently(Self.refresh, Array(repeating: ["refresh_token": .string(alice.refreshToken)], count: 4))
            let winners = responses.filter { $0.status == .ok }
            #expect(winners.count <= 1, "\(responses.map(\.status.code))")
            for response in responses where response.status != .ok { Self.expectUnauthorized(response) }
            // The losers were a reuse: the family is revoked, the winner's successor included.
            if let successor = winners.first?.json["refresh_token"]?.stringValue {
                Self.expectUnauthorized(try await server.post(Self.refresh, ["refresh_token": .string(successor)]))
            }
        }
    }

    // MARK: Logout and me

    @Test(arguments: StoreKind.allCases)
    func logoutRevokesEveryRefreshTokenOfTheCaller(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let alice = try await server.signUp("alice")
            let bob = try await server.signUp("bob")
            let second = try await server.post(Self.login, Self.credentials(alice.email, alice.password))
            let secondToken = try #require(second.json["refresh_token"]?.stringValue)

            Self.expectUnauthorized(try await server.post(Self.logout), "Not authenticated")
            Self.expectUnauthorized(try await server.post(Self.logout, token: "garbage"))

            let response = try await server.post(Self.logout, token: alice.accessToken)
            #expect(response.status == .ok)
            #expect((response.json["message"]?.stringValue ?? "").isEmpty == false, "\(response.text)")
            for token in [alice.refreshToken, secondToken] {
                Self.expectUnauthorized(try await server.post(Self.refresh, ["refresh_token": .string(token)]))
            }
            // Only the caller's sessions.
            #expect(try await server.post(Self.refresh, ["refresh_token": .string(bob.refreshToken)]).status == .ok)
            // Logging in again starts a working session.
            let again = try await server.post(Self.login, Self.credentials(alice.email, alice.password))
            #expect(try await server.post(Self.refresh, ["refresh_token": again.json["refresh_token"] ?? .null]).status == .ok)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func meNeedsABearerToken(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let alice = try await server.signUp("alice")
            Self.expectUnauthorized(try await server.get(Self.me), "Not authenticated")
            var basic = HTTPFields()
            basic[.authorization] = "Basic YWxpY2U6cGFzcw=="
            Self.expectUnauthorized(try await server.request(.get, Self.me, headers: basic), "Not authenticated")
            Self.expectUnauthorized(try await server.get(Self.me, token: "not.a.jwt"))

            let me = try await server.get(Self.me, token: alice.accessToken)
            #expect(me.status == .ok)
            #expect(Set(me.json.objectValue?.keys ?? []) == Self.userFields)
            #expect(me.json["id"]?.stringValue == alice.id)
            #expect(me.json["email"] == "alice@example.com")
            #expect(me.json["username"] == "alice")
            #expect(me.json["role"] == "user")
            #expect(me.json["credits"] == 100)
            // The scheme is case-insensitive.
            var lower = HTTPFields()
            lower[.authorization] = "bearer \(alice.accessToken)"
            #expect(try await server.request(.get, Self.me, headers: lower).status == .ok)
        }
    }
}

fileprivate extension TestServer {
    /// POSTs each body on a connection of its own, all connected before any is sent, so the
    /// server works on them at the same time. (The harness's client pipelines its requests on
    /// one connection, and the server answers a connection's requests one after another.)
    func postConcurrently(_ path: String, _ bodies: [JSONValue]) async throws -> [APIResponse] {
        let clients = bodies.map { _ in TestClient(host: "127.0.0.1", port: port, configuration: .init(timeout: .seconds(30))) }
        for client in clients { client.connect() }
        do {
            for client in clients { _ = try await client.getChannel() }
            let responses = try await withThrowingTaskGroup(of: APIResponse.self) { group in
                for (client, body) in zip(clients, bodies) {
                    group.addTask {
                        var headers = HTTPFields()
                        headers[.contentType] = "application/json"
                        let response = try await client.execute(TestClient.Request(
                            path, method: .post, authority: "localhost", headers: headers, body: ByteBuffer(bytes: body.serialized())))
                        return APIResponse(status: response.status, headers: response.head.headerFields,
                                           body: Array((response.body ?? ByteBuffer()).readableBytesView))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for client in clients { try? await client.shutdown() }
            return responses
        } catch {
            for client in clients { try? await client.shutdown() }
            throw error
        }
    }
}
