/// Every role and ownership rule of the API, in one place.
enum AccessPolicy {
    static func requireCreator(_ user: User) throws {
        guard user.role == .creator || user.role == .admin else { throw APIError.forbidden("Creator role required") }
    }

    static func requireAdmin(_ user: User) throws {
        guard user.role == .admin else { throw APIError.forbidden("Admin role required") }
    }

    /// Active agents are public; any other status only for the owner and admins.
    static func canView(_ agent: Agent, as user: User?) -> Bool {
        agent.status == .active || user.map { isOwnerOrAdmin($0, of: agent) } == true
    }

    static func isOwnerOrAdmin(_ user: User, of agent: Agent) -> Bool {
        user.role == .admin || agent.creatorID == user.id
    }

    static func requireEdit(_ agent: Agent, by user: User) throws {
        guard isOwnerOrAdmin(user, of: agent) else { throw APIError.forbidden("Not authorized to update this agent") }
    }

    /// Only an admin approves or rejects, and never their own agent: review takes a second
    /// person even when the creator is an admin. An owner may withdraw (`inactive`) or resubmit
    /// (`pending_review`).
    static func requireStatusChange(to status: AgentStatus, of agent: Agent, by user: User) throws {
        switch status {
        case .inactive, .pendingReview: return
        case .active, .rejected:
            guard user.role == .admin else {
                throw APIError.forbidden("Only an admin can set an agent's status to \(status.rawValue)")
            }
            guard agent.creatorID != user.id else {
                throw APIError.forbidden("An agent cannot be approved or rejected by its own creator")
            }
        }
    }
}
