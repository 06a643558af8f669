import Crypto
import Foundation
import JWTKit
import Testing
@testable import ControlPlane

/// Attacks on access tokens, each next to a control built the same way that must succeed, so a
/// 401 is known to come from the property under test and not from a malformed token.
@Suite struct TokenSecurityTests {
    private static let kid = "sec-key"
    private static let secret = "server-secret-0123456789abcdef-0123456789"
    private static let keys: [TokenService.SigningKey] = [.init(id: kid, secret: Array(secret.utf8))]
    private static let me = "/api/v1/auth/me"

    // MARK: JWT pieces

    private static func base64URLEncode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    private static func base64URLDecode(_ text: some StringProtocol) throws -> [UInt8] {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Array(try #require(Data(base64Encoded: base64)))
    }

    private struct Parts {
        var header: JSONValue
        var payload: JSONValue
        var signature: String
    }

    private static func parts(_ token: String) throws -> Parts {
        let pieces = token.split(separator: ".", omittingEmptySubsequences: false)
        try #require(pieces.count == 3)
        return Parts(header: try JSONParser.parse(try base64URLDecode(pieces[0])),
                     payload: try JSONParser.parse(try base64URLDecode(pieces[1])), signature: String(pieces[2]))
    }

    private static func assemble(header: JSONValue, payload: JSONValue, signature: String) -> String {
        base64URLEncode(header.serialized()) + "." + base64URLEncode(payload.serialized()) + "." + signature
    }

    private static func replacing(_ object: JSONValue, _ key: String, with value: JSONValue) -> JSONValue {
        guard let members = object.objectValue else { return object }
        var replaced = members.map { ($0.key, $0.value) }
        if let i = replaced.firstIndex(where: { $0.0 == key }) { replaced[i].1 = value } else { replaced.append((key, value)) }
        return .object(JSONObject(replaced))
    }

    private static func claims(_ userID: String, expiresIn: TimeInterval = 600, typ: String = "access") -> AccessClaims {
        let now = Date()
        return AccessClaims(sub: .init(value: userID), exp: .init(value: now.addingTimeInterval(expiresIn)),
                            iat: .init(value: now.addingTimeInterval(min(0, expiresIn - 900))),
                            jti: .init(value: UUID().uuidString), typ: typ)
    }

    /// A key collection outside the server with one HS256 key.
    private static func collection(secret: String, kid: String?) async -> JWTKeyCollection {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256, kid: kid.map { JWKIdentifier(string: $0) })
        return keys
    }

    private static func expectRejected(_ server: TestServer, _ token: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let response = try await server.get(me, token: token)
        #expect(response.status == .unauthorized, "\(response.text)", sourceLocation: sourceLocation)
        #expect(response.headers[.wwwAuthenticate] == "Bearer", sourceLocation: sourceLocation)
        #expect(response.json["id"] == nil, sourceLocation: sourceLocation)
    }

    private static func expectAccepted(_ server: TestServer, _ token: String, as userID: String,
                                       sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let response = try await server.get(me, token: token)
        #expect(response.status == .ok, "control token refused: \(response.text)", sourceLocation: sourceLocation)
        #expect(response.json["id"]?.stringValue == userID, sourceLocation: sourceLocation)
    }

    // MARK: Attacks

    @Test(arguments: StoreKind.allCases)
    func tamperedPayloadIsRejected(_ kind: StoreKind) async throws {
        try await TestServer.run(kind, keys: Self.keys) { server in
            let alice = try await server.signUp("alice")
            let bob = try await server.signUp("bob")
            let token = try Self.parts(alice.accessToken)
            #expect(token.payload["sub"]?.stringValue == alice.id)

            // Re-encoding without a change keeps the token valid (the control)…
            try await Self.expectAccepted(server, Self.assemble(header: token.header, payload: token.payload, signature: token.signature),
                                          as: alice.id)
            // …but another user's id under alice's signature does not pass.
            let forged = Self.assemble(header: token.header, payload: Self.replacing(token.payload, "sub", with: .string(bob.id)),
                                       signature: token.signature)
            try await Self.expectRejected(server, forged)
            // Nor does a later expiry, nor a flipped signature character.
            let extended = Self.replacing(token.payload, "exp", with: .number(JSONNumber(Int64(Date().timeIntervalSince1970) + 86_400 * 365)))
            try await Self.expectRejected(server, Self.assemble(header: token.header, payload: extended, signature: token.signature))
            var signature = Array(token.signature)
            signature[signature.count / 2] = signature[signature.count / 2] == "A" ? "B" : "A"
            try await Self.expectRejected(server, Self.assemble(header: token.header, payload: token.payload, signature: String(signature)))
        }
    }

    @Test(arguments: StoreKind.allCases)
    func algNoneIsRejected(_ kind: StoreKind) async throws {
        try await TestServer.run(kind, keys: Self.keys) { server in
            let alice = try await server.signUp("alice")
            let payload = try Self.parts(alice.accessToken).payload
            let headers: [JSONValue] = [
                ["alg": "none", "typ": "JWT"],
                ["alg": "none", "typ": "JWT", "kid": .string(Self.kid)],
                ["alg": "None", "typ": "JWT"],
            ]
            for header in headers {
                let unsigned = Self.base64URLEncode(header.serialized()) + "." + Self.base64URLEncode(payload.serialized())
                try await Self.expectRejected(server, unsigned + ".")
                try await Self.expectRejected(server, unsigned)
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func tokenSignedWithAnotherKeyIsRejected(_ kind: StoreKind) async throws {
        try await TestServer.run(kind, keys: Self.keys) { server in
            let alice = try await server.signUp("alice")
            // Control: the server's own secret under its kid, signed outside the server.
            let genuine = await Self.collection(secret: Self.secret, kid: Self.kid)
            try await Self.expectAccepted(server, try await genuine.sign(Self.claims(alice.id), kid: JWKIdentifier(string: Self.kid)),
                                          as: alice.id)

            let attacker = await Self.collection(secret: "attacker-secret-0123456789abcdef-0123", kid: Self.kid)
            try await Self.expectRejected(server, try await attacker.sign(Self.claims(alice.id), kid: JWKIdentifier(string: Self.kid)))
            let noKid = await Self.collection(secret: "attacker-secret-0123456789abcdef-0123", kid: nil)
            try await Self.expectRejected(server, try await noKid.sign(Self.claims(alice.id)))
        }
    }

    @Test(arguments: StoreKind.allCases)
    func unknownKidIsRejected(_ kind: StoreKind) async throws {
        try await TestServer.run(kind, keys: Self.keys) { server in
            let alice = try await server.signUp("alice")
            // Signed with the server's very secret, but named by a kid the server does not have:
            // the kid picks the key, nothing falls back to the default.
            let rogue = await Self.collection(secret: Self.secret, kid: "rogue")
            try await Self.expectRejected(server, try await rogue.sign(Self.claims(alice.id), kid: JWKIdentifier(string: "rogue")))
        }
    }

    @Test(arguments: StoreKind.allCases)
    func expiredTokenIsRejected(_ kind: StoreKind) async throws {
        try await TestServer.run(kind, keys: Self.keys) { server in
            let alice = try await server.signUp("alice")
            let keys = server.services.tokens.keys
            let kid = JWKIdentifier(string: server.services.tokens.signingKeyID)
            try await Self.expectAccepted(server, try await keys.sign(Self.claims(alice.id, expiresIn: 60), kid: kid), as: alice.id)
            try await Self.expectRejected(server, try await keys.sign(Self.claims(alice.id, expiresIn: -60), kid: kid))
            try await Self.expectRejected(server, try await keys.sign(Self.claims(alice.id, expiresIn: -1), kid: kid))
        }
    }

    /// A token that passed is remembered (the next requests skip the HMAC): the memory must end
    /// with the token's own expiry, not outlive it.
    @Test func acceptedTokenStopsWorkingWhenItExpires() async throws {
        try await TestServer.run(.sqlite, keys: Self.keys) { server in
            let alice = try await server.signUp("alice")
            // Seconds enough for two requests on a loaded CI host (one run there needed over two).
            let claims = Self.claims(alice.id, expiresIn: 6)
            let token = try await server.services.tokens.keys.sign(claims, kid: JWKIdentifier(string: Self.kid))
            try await Self.expectAccepted(server, token, as: alice.id)
            try await Self.expectAccepted(server, token, as: alice.id)
            try await Task.sleep(for: .milliseconds(Int((claims.exp.value.timeIntervalSinceNow + 0.3) * 1_000)))
            try await Self.expectRejected(server, token)
            try await Self.expectAccepted(server, alice.accessToken, as: alice.id)
        }
    }

    /// The scheme is case-insensitive and the blanks around the token are not part of it; a
    /// third word is not a token.
    @Test func bearerHeaderIsTwoWordsHoweverSpaced() async throws {
        try await TestServer.run(.sqlite, keys: Self.keys) { server in
            let alice = try await server.signUp("alice")
            for header in ["Bearer \(alice.accessToken)", "bearer  \(alice.accessToken)", "BEARER\t\(alice.accessToken) "] {
                let response = try await server.request(.get, Self.me, headers: [.authorization: header])
                #expect(response.status == .ok, "\(header.prefix(12))")
            }
            for header in ["Bearer \(alice.accessToken) extra", "Bearer", "Token \(alice.accessToken)", "Bearer\(alice.accessToken)"] {
                let response = try await server.request(.get, Self.me, headers: [.authorization: header])
                #expect(response.status == .unauthorized, "\(header.prefix(12))")
            }
        }
    }

    @Test func verifiedTokenCacheForgetsExpiredTokensAndStaysBounded() {
        let cache = VerifiedTokenCache(capacity: 3)
        let now = Date()
        cache.remember("a", userID: "u1", expiresAt: now.addingTimeInterval(60), now: now)
        #expect(cache.userID(of: "a", at: now) == "u1")
        #expect(cache.userID(of: "a ", at: now) == nil)
        #expect(cache.userID(of: "a", at: now.addingTimeInterval(60)) == nil)
        #expect(cache.count == 0)
        // Full: expired entries go first, live ones survive.
        cache.remember("live", userID: "u2", expiresAt: now.addingTimeInterval(600), now: now)
        cache.remember("old1", userID: "u3", expiresAt: now.addingTimeInterval(1), now: now)
        cache.remember("old2", userID: "u4", expiresAt: now.addingTimeInterval(1), now: now)
        cache.remember("new", userID: "u5", expiresAt: now.addingTimeInterval(600), now: now.addingTimeInterval(2))
        #expect(cache.count == 2)
        #expect(cache.userID(of: "live", at: now.addingTimeInterval(2)) == "u2")
        // Full of live tokens: it starts over instead of growing.
        for index in 0..<10 { cache.remember("t\(index)", userID: "u", expiresAt: now.addingTimeInterval(600), now: now) }
        #expect(cache.count <= 3)
    }

    @Test(arguments: StoreKind.allCases)
    func tokenThatIsNotAnAccessTokenIsRejected(_ kind: StoreKind) async throws {
        try await TestServer.run(kind, keys: Self.keys) { server in
            let alice = try await server.signUp("alice")
            let keys = server.services.tokens.keys
            let kid = JWKIdentifier(string: Self.kid)
            for typ in ["refresh", "Access", "", "id"] {
                try await Self.expectRejected(server, try await keys.sign(Self.claims(alice.id, typ: typ), kid: kid))
            }
            // Without any `typ` claim at all.
            let token = try Self.parts(try await keys.sign(Self.claims(alice.id), kid: kid))
            let withoutTyp = JSONValue.object(JSONObject(token.payload.objectValue!.filter { $0.key != "typ" }.map { ($0.key, $0.value) }))
            let resigned = Self.resign(header: token.header, payload: withoutTyp, secret: Self.secret)
            try await Self.expectRejected(server, resigned)
            // Control: the same re-signing with `typ: access` passes.
            try await Self.expectAccepted(server, Self.resign(header: token.header, payload: token.payload, secret: Self.secret),
                                          as: alice.id)
        }
    }

    /// HS256 over `header.payload` by hand, for payloads `AccessClaims` cannot express.
    private static func resign(header: JSONValue, payload: JSONValue, secret: String) -> String {
        let input = base64URLEncode(header.serialized()) + "." + base64URLEncode(payload.serialized())
        let mac = HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: SymmetricKey(data: Array(secret.utf8)))
        return input + "." + base64URLEncode(Array(mac))
    }

    @Test(arguments: StoreKind.allCases)
    func validSignatureForAnUnknownUserIsRejected(_ kind: StoreKind) async throws {
        try await TestServer.run(kind, keys: Self.keys) { server in
            let token = try await server.services.tokens.keys.sign(Self.claims(UUID().uuidString.lowercased()), kid: JWKIdentifier(string: Self.kid))
            try await Self.expectRejected(server, token)
            try await Self.expectRejected(server, String(repeating: "a", count: 5_000))
        }
    }

    // MARK: Rotation

    @Test(arguments: StoreKind.allCases)
    func rotatedKeysVerifyOldTokensAndSignWithTheNewKey(_ kind: StoreKind) async throws {
        let oldKey = TokenService.SigningKey(id: "k-old", secret: Array("old-secret-0123456789abcdef-0123456789".utf8))
        let newKey = TokenService.SigningKey(id: "k-new", secret: Array("new-secret-0123456789abcdef-0123456789".utf8))
        let oldSecret = "old-secret-0123456789abcdef-0123456789"
        let newSecret = "new-secret-0123456789abcdef-0123456789"

        // Tokens issued before the rotation, by a server that had only the old key.
        let (userID, oldToken) = try await TestServer.run(kind, keys: [oldKey]) { server in
            let alice = try await server.signUp("alice")
            return (alice.id, alice.accessToken)
        }
        #expect(try Self.parts(oldToken).header["kid"] == "k-old")

        try await TestServer.run(kind, keys: [newKey, oldKey]) { server in
            let alice = try await server.signUp("alice")
            let header = try Self.parts(alice.accessToken).header
            #expect(header["kid"] == "k-new")
            #expect(header["alg"] == "HS256")
            try await Self.expectAccepted(server, alice.accessToken, as: alice.id)
            #expect(try Self.parts(try await server.services.tokens.accessToken(for: alice.id)).header["kid"] == "k-new")

            // Signed by the old key (outside this server): still accepted.
            let old = await Self.collection(secret: oldSecret, kid: "k-old")
            try await Self.expectAccepted(server, try await old.sign(Self.claims(alice.id), kid: JWKIdentifier(string: "k-old")), as: alice.id)
            // The kid binds the key: the new secret under the old kid, or the reverse, does not pass.
            let crossed = await Self.collection(secret: newSecret, kid: "k-old")
            try await Self.expectRejected(server, try await crossed.sign(Self.claims(alice.id), kid: JWKIdentifier(string: "k-old")))
            let crossedBack = await Self.collection(secret: oldSecret, kid: "k-new")
            try await Self.expectRejected(server, try await crossedBack.sign(Self.claims(alice.id), kid: JWKIdentifier(string: "k-new")))
            // The pre-rotation token's signature verifies here too (its user lives in the other
            // server's store, so it is checked against the key collection directly).
            #expect(await server.services.tokens.verifyAccessToken(oldToken) == userID)
        }

        // Once the old key is dropped, its tokens stop working.
        try await TestServer.run(kind, keys: [newKey]) { server in
            #expect(await server.services.tokens.verifyAccessToken(oldToken) == nil)
            let alice = try await server.signUp("alice")
            let old = await Self.collection(secret: oldSecret, kid: "k-old")
            try await Self.expectRejected(server, try await old.sign(Self.claims(alice.id), kid: JWKIdentifier(string: "k-old")))
        }
    }
}
