public enum Role: String, Sendable, CaseIterable {
    case user, creator, admin
}
