import Testing
@testable import ControlPlane

@Suite struct SmokeTests {
    @Test(arguments: StoreKind.allCases)
    func signupThenMe(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let alice = try await server.signUp("alice")
            let me = try await server.get("/api/v1/auth/me", token: alice.accessToken)
            #expect(me.status == .ok)
            #expect(me.json["email"] == "alice@example.com")
            #expect(me.json["credits"] == 100)
            #expect(me.headers[.requestID] != nil)
        }
    }
}
