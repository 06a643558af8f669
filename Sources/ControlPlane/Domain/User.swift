/// A user row as the domain sees it. `creditsMilli` is the balance in milli-credits.
public struct User: Sendable, Equatable {
    public var id: String
    public var email: String
    public var username: String
    public var fullName: String
    public var passwordHash: String
    public var avatarURL: String?
    public var bio: String?
    public var role: Role
    public var creditsMilli: Int64
    public var isActive: Bool
    public var isVerified: Bool
    public var createdAt: Int64
    public var updatedAt: Int64

    /// The API's user object (`password_hash` never leaves the store).
    var json: JSONValue {
        [
            "id": .string(id), "email": .string(email), "username": .string(username),
            "full_name": .string(fullName), "avatar_url": JSONValue(optional: avatarURL), "bio": JSONValue(optional: bio),
            "role": .string(role.rawValue), "credits": .credits(creditsMilli), "is_active": .bool(isActive),
            "is_verified": .bool(isVerified), "created_at": .string(Timestamp.iso8601(createdAt)),
            "updated_at": .string(Timestamp.iso8601(updatedAt)),
        ]
    }
}
