import Foundation
import JWTKit

/// Claims of an access token. Role and activity are not trusted from the token: every request
/// reads the user, so a role change or a deactivation takes effect at once.
struct AccessClaims: JWTPayload {
    var sub: SubjectClaim
    var exp: ExpirationClaim
    var iat: IssuedAtClaim
    var jti: IDClaim
    var typ: String

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
        guard typ == "access" else { throw JWTError.claimVerificationFailure(failedClaim: nil, reason: "not an access token") }
    }
}

/// Signs and verifies access tokens (HS256). Keys carry a `kid`; verification accepts every
/// configured key, signing uses the first, so a key can be rotated by adding the new one first
/// and removing the old one after the access-token lifetime has passed.
struct TokenService: Sendable {
    struct SigningKey: Sendable {
        let id: String
        let secret: [UInt8]
    }

    let keys: JWTKeyCollection
    let signingKeyID: String
    /// The configured kids. jwt-kit falls back to its default key for a kid it does not know
    /// (or none), so verification checks the header's kid against these first.
    let keyIDs: Set<String>
    let accessTokenLifetime: TimeInterval
    let refreshTokenLifetime: TimeInterval
    private let verified = VerifiedTokenCache()

    init(keys signingKeys: [SigningKey], accessTokenLifetime: TimeInterval, refreshTokenLifetime: TimeInterval) async {
        let collection = JWTKeyCollection()
        for key in signingKeys {
            await collection.add(hmac: HMACKey(from: key.secret), digestAlgorithm: .sha256, kid: JWKIdentifier(string: key.id))
        }
        keys = collection
        signingKeyID = signingKeys[0].id
        keyIDs = Set(signingKeys.map(\.id))
        self.accessTokenLifetime = accessTokenLifetime
        self.refreshTokenLifetime = refreshTokenLifetime
    }

    func accessToken(for userID: String) async throws -> String {
        let now = Date()
        let claims = AccessClaims(
            sub: .init(value: userID), exp: .init(value: now.addingTimeInterval(accessTokenLifetime)),
            iat: .init(value: now), jti: .init(value: RandomID.uuid()), typ: "access")
        return try await keys.sign(claims, kid: JWKIdentifier(string: signingKeyID))
    }

    /// The user id of a valid access token; nil for anything else (bad signature, unknown kid,
    /// `alg: none`, expired, a refresh token, garbage).
    func verifyAccessToken(_ token: String) async -> String? {
        guard token.utf8.count < 4096 else { return nil }
        let now = Date()
        if let userID = verified.userID(of: token, at: now) { return userID }
        guard let kid = Self.keyID(of: token), keyIDs.contains(kid),
              let claims = try? await keys.verify(token, as: AccessClaims.self) else { return nil }
        verified.remember(token, userID: claims.sub.value, expiresAt: claims.exp.value, now: now)
        return claims.sub.value
    }

    /// The `kid` of a JWT's header, nil when there is none or the header does not parse.
    private static func keyID(of token: String) -> String? {
        guard let header = token.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).first else { return nil }
        var base64 = header.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let json = try? JSONParser.parse(Array(data)) else { return nil }
        return json["kid"]?.stringValue
    }
}
