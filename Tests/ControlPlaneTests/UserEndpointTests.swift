import Foundation
import HTTPTypes
import Testing
@testable import ControlPlane

/// `/api/v1/users/me…` and `/api/v1/admin/users/{id}` on both stores.
@Suite struct UserEndpointTests {
    private static let profile = "/api/v1/users/me"
    private static let creator = "/api/v1/users/me/creator"
    private static let me = "/api/v1/auth/me"
    private static func admin(_ id: String) -> String { "/api/v1/admin/users/\(id)" }

    private static func stored(_ server: TestServer, _ id: String) async throws -> User {
        try #require(try await server.store.read { db in try await UserStore.find(id: id, in: db) })
    }

    // MARK: PATCH /users/me

    @Test(arguments: StoreKind.allCases)
    func profileFieldsAreUpdatedAndNullClearsBio(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let alice = try await server.signUp("alice")
            let updated = try await server.patch(Self.profile, [
                "full_name": "Alice Liddell", "bio": "Down the rabbit hole", "avatar_url": "https://img.example.com/a.png",
            ], token: alice.accessToken)
            #expect(updated.status == .ok, "\(updated.text)")
            #expect(updated.json["full_name"] == "Alice Liddell")
            #expect(updated.json["bio"] == "Down the rabbit hole")
            #expect(updated.json["avatar_url"] == "https://img.example.com/a.png")
            #expect(updated.json["id"]?.stringValue == alice.id)
            #expect(updated.json["password_hash"] == nil)
            let me = try await server.get(Self.me, token: alice.accessToken)
            #expect(me.json["full_name"] == "Alice Liddell" && me.json["bio"] == "Down the rabbit hole")

            // null clears bio; absent fields stay as they were.
            let cleared = try await server.patch(Self.profile, ["bio": nil], token: alice.accessToken)
            #expect(cleared.status == .ok, "\(cleared.text)")
            #expect(cleared.json["bio"] == .null)
            #expect(cleared.json["full_name"] == "Alice Liddell")
            #expect(cleared.json["avatar_url"] == "https://img.example.com/a.png")
            let row = try await Self.stored(server, alice.id)
            #expect(row.bio == nil && row.fullName == "Alice Liddell" && row.avatarURL == "https://img.example.com/a.png")

            let untouched = try await server.patch(Self.profile, [:], token: alice.accessToken)
            #expect(untouched.status == .ok)
            #expect(untouched.json["full_name"] == "Alice Liddell")

            let clearAvatar = try await server.patch(Self.profile, ["avatar_url": nil], token: alice.accessToken)
            #expect(clearAvatar.json["avatar_url"] == .null)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func invalidProfileValuesAre422AndChangeNothing(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let alice = try await server.signUp("alice")
            let cases: [(JSONValue, [String])] = [
                (["full_name": nil], ["body.full_name"]),
                (["full_name": ""], ["body.full_name"]),
                (["full_name": 42], ["body.full_name"]),
                (["avatar_url": "javascript:alert(1)", "bio": "new bio"], ["body.avatar_url"]),
                (["bio": .string(String(repeating: "b", count: 2_001))], ["body.bio"]),
            ]
            for (body, locations) in cases {
                let response = try await server.patch(Self.profile, body, token: alice.accessToken)
                #expect(response.status == .unprocessableContent, "\(body.serializedString()): \(response.text)")
                #expect(response.issueLocations == locations, "\(response.text)")
            }
            let row = try await Self.stored(server, alice.id)
            #expect(row.fullName == "User alice" && row.bio == nil && row.avatarURL == nil)
            let anonymous = try await server.patch(Self.profile, ["bio": "x"])
            #expect(anonymous.status == .unauthorized)
            #expect(anonymous.headers[.wwwAuthenticate] == "Bearer")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func otherFieldsInTheProfileBodyAreIgnored(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let alice = try await server.signUp("alice")
            let response = try await server.patch(Self.profile, [
                "full_name": "New Name", "role": "admin", "credits": 1_000_000, "email": "evil@example.com",
                "is_active": false, "is_verified": true, "id": "00000000-0000-0000-0000-000000000000",
            ], token: alice.accessToken)
            #expect(response.status == .ok, "\(response.text)")
            #expect(response.json["full_name"] == "New Name")
            #expect(response.json["role"] == "user")
            #expect(response.json["credits"] == 100)
            #expect(response.json["email"] == "alice@example.com")
            #expect(response.json["is_active"] == true && response.json["is_verified"] == false)
            #expect(response.json["id"]?.stringValue == alice.id)
            let row = try await Self.stored(server, alice.id)
            #expect(row.role == .user && row.creditsMilli == 100_000 && row.email == "alice@example.com" && row.isActive)
            // Still no admin rights.
            #expect(try await server.patch(Self.admin(alice.id), ["role": "admin"], token: alice.accessToken).status == .forbidden)
        }
    }

    // MARK: POST /users/me/creator

    @Test(arguments: StoreKind.allCases)
    func becomingACreatorIsSelfServeAndIdempotent(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let alice = try await server.signUp("alice")
            for _ in 0..<2 {
                let response = try await server.post(Self.creator, token: alice.accessToken)
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.json["role"] == "creator")
                #expect(response.json["id"]?.stringValue == alice.id)
            }
            #expect(try await Self.stored(server, alice.id).role == .creator)
            #expect(try await server.get(Self.me, token: alice.accessToken).json["role"] == "creator")
            // The same access token now carries creator rights (the role is read per request).
            _ = try await server.createAgent(as: alice)

            // An admin asking is not demoted to creator.
            let root = try await server.account("root", role: .admin)
            let asAdmin = try await server.post(Self.creator, token: root.accessToken)
            #expect(asAdmin.status == .ok)
            #expect(asAdmin.json["role"] == "admin")
            #expect(try await Self.stored(server, root.id).role == .admin)

            #expect(try await server.post(Self.creator).status == .unauthorized)
        }
    }

    // MARK: PATCH /admin/users/{id}

    @Test(arguments: StoreKind.allCases)
    func onlyAdminsMayUpdateUsers(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let alice = try await server.signUp("alice")
            let maker = try await server.account("maker", role: .creator)
            for caller in [alice, maker] {
                let response = try await server.patch(Self.admin(alice.id), ["role": "admin"], token: caller.accessToken)
                #expect(response.status == .forbidden)
                #expect(response.detail == "Admin role required")
            }
            let anonymous = try await server.patch(Self.admin(alice.id), ["role": "admin"])
            #expect(anonymous.status == .unauthorized)
            #expect(anonymous.headers[.wwwAuthenticate] == "Bearer")
            #expect(try await Self.stored(server, alice.id).role == .user)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func adminSetsRoleAndActivity(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let root = try await server.account("root", role: .admin)
            let bob = try await server.signUp("bob")

            let promoted = try await server.patch(Self.admin(bob.id), ["role": "creator"], token: root.accessToken)
            #expect(promoted.status == .ok, "\(promoted.text)")
            #expect(promoted.json["role"] == "creator" && promoted.json["id"]?.stringValue == bob.id)
            #expect(try await Self.stored(server, bob.id).role == .creator)

            let both = try await server.patch(Self.admin(bob.id), ["role": "admin", "is_active": true], token: root.accessToken)
            #expect(both.json["role"] == "admin" && both.json["is_active"] == true)
            // Bob's existing token carries the new role at once.
            #expect(try await server.patch(Self.admin(root.id), ["is_active": true], token: bob.accessToken).status == .ok)
            #expect(try await server.patch(Self.admin(bob.id), ["role": "user"], token: root.accessToken).json["role"] == "user")

            let deactivated = try await server.patch(Self.admin(bob.id), ["is_active": false], token: root.accessToken)
            #expect(deactivated.status == .ok)
            #expect(deactivated.json["is_active"] == false)
            #expect(try await Self.stored(server, bob.id).isActive == false)

            for (body, location) in [(["role": "superuser"], "body.role"), (["is_active": "yes"], "body.is_active")] as [(JSONValue, String)] {
                let bad = try await server.patch(Self.admin(bob.id), body, token: root.accessToken)
                #expect(bad.status == .unprocessableContent)
                #expect(bad.issueLocations == [location])
            }

            for unknown in [UUID().uuidString.lowercased()] {
                let missing = try await server.patch(Self.admin(unknown), ["role": "creator"], token: root.accessToken)
                #expect(missing.status == .notFound)
                #expect(missing.detail == "User not found")
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func adminsCannotDemoteOrDeactivateThemselves(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let root = try await server.account("root", role: .admin)
            let bodies: [JSONValue] = [["role": "user"], ["role": "creator"], ["is_active": false], ["role": "admin", "is_active": false]]
            for body in bodies {
                let response = try await server.patch(Self.admin(root.id), body, token: root.accessToken)
                #expect(response.status == .badRequest, "\(body.serializedString())")
                #expect(response.detail == "Admins cannot demote or deactivate themselves")
            }
            let row = try await Self.stored(server, root.id)
            #expect(row.role == .admin && row.isActive)
            // Keeping their own role is fine.
            #expect(try await server.patch(Self.admin(root.id), ["role": "admin"], token: root.accessToken).status == .ok)
            #expect(try await server.get(Self.me, token: root.accessToken).status == .ok)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func deactivationEndsTheUsersSessionsAtOnce(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let root = try await server.account("root", role: .admin)
            let bob = try await server.signUp("bob")
            #expect(try await server.get(Self.me, token: bob.accessToken).status == .ok)

            let response = try await server.patch(Self.admin(bob.id), ["is_active": false], token: root.accessToken)
            #expect(response.status == .ok)

            // The still-unexpired access token stops working…
            let me = try await server.get(Self.me, token: bob.accessToken)
            #expect(me.status == .unauthorized)
            #expect(me.headers[.wwwAuthenticate] == "Bearer")
            #expect(try await server.patch(Self.profile, ["bio": "still here"], token: bob.accessToken).status == .unauthorized)
            // …and so does the refresh token, and a new login.
            let refresh = try await server.post("/api/v1/auth/refresh", ["refresh_token": .string(bob.refreshToken)])
            #expect(refresh.status == .unauthorized)
            #expect(try await server.store.read { db in try await RefreshTokenStore.find(token: bob.refreshToken, in: db) }?.revokedAt != nil)
            let login = try await server.post("/api/v1/auth/login", ["email": .string(bob.email), "password": .string(bob.password)])
            #expect(login.status == .forbidden)

            // Reactivated: a new login works; the old refresh token stays revoked.
            #expect(try await server.patch(Self.admin(bob.id), ["is_active": true], token: root.accessToken).status == .ok)
            #expect(try await server.get(Self.me, token: bob.accessToken).status == .ok)
            let again = try await server.post("/api/v1/auth/login", ["email": .string(bob.email), "password": .string(bob.password)])
            #expect(again.status == .ok)
            #expect(try await server.post("/api/v1/auth/refresh", ["refresh_token": .string(bob.refreshToken)]).status == .unauthorized)
        }
    }
}
