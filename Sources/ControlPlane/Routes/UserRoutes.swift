import Hummingbird
import SQLKit

/// `/api/v1/users/me…` (self-service) and `/api/v1/admin/users/{user_id}` (admins).
struct UserRoutes {
    let services: ControlPlaneServices

    func register(in table: RouteTable) {
        table.add(.patch, "/api/v1/users/me", updateProfile)
        table.add(.post, "/api/v1/users/me/creator", becomeCreator)
        table.add(.patch, "/api/v1/admin/users/{user_id}", adminUpdate)
    }

    @Sendable func updateProfile(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let user = try await services.authenticator.user(request)
        var body = BodyValidator(try await RequestBody.json(request, context: context))
        let fullName = body.optionalString("full_name", minLength: 1, maxLength: 200)
        let bio = body.optionalString("bio", maxLength: 2_000)
        let avatar = body.optionalString("avatar_url", maxLength: 2_048)
        if fullName.isNull { body.add([.key("full_name")], msg: "Field may not be null", type: "none_forbidden") }
        if let url = avatar.value, !(url.hasPrefix("https://") || url.hasPrefix("http://") || url.hasPrefix("/")) {
            body.fail("avatar_url", "URL must be http(s) or a path on this server")
        }
        try body.finish()
        let updated = try await services.store.transaction { db in
            try await UserStore.updateProfile(
                id: user.id, fullName: fullName.value ?? user.fullName,
                bio: bio.isAbsent ? user.bio : bio.value, avatarURL: avatar.isAbsent ? user.avatarURL : avatar.value, in: db)
            return try await UserStore.find(id: user.id, in: db)
        }
        return JSONResponse.make(.ok, (updated ?? user).json)
    }

    @Sendable func becomeCreator(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let user = try await services.authenticator.user(request)
        if user.role != .user { return JSONResponse.make(.ok, user.json) }  // creators and admins already create
        let updated = try await services.store.transaction { db in
            try await UserStore.setRole(id: user.id, role: .creator, in: db)
            return try await UserStore.find(id: user.id, in: db)
        }
        return JSONResponse.make(.ok, (updated ?? user).json)
    }

    @Sendable func adminUpdate(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let admin = try await services.authenticator.user(request)
        try AccessPolicy.requireAdmin(admin)
        let targetID = try context.parameter("user_id")
        var body = BodyValidator(try await RequestBody.json(request, context: context))
        let role = body.optionalEnumeration("role", Role.self)
        let active = body.optionalBool("is_active")
        try body.finish()
        let updated: User = try await services.store.transaction { db in
            guard let target = try await UserStore.find(id: targetID, in: db) else { throw APIError.notFound("User") }
            // An admin cannot lock themselves out; another admin must do it.
            if target.id == admin.id, (role.value.map { $0 != .admin } ?? false) || active.value == false {
                throw APIError.badRequest("Admins cannot demote or deactivate themselves")
            }
            if let role = role.value { try await UserStore.setRole(id: target.id, role: role, in: db) }
            if let active = active.value {
                try await UserStore.setActive(id: target.id, active: active, in: db)
                if !active { try await RefreshTokenStore.revokeAll(userID: target.id, in: db) }
            }
            return try await UserStore.find(id: target.id, in: db) ?? target
        }
        return JSONResponse.make(.ok, updated.json)
    }
}
