import Hummingbird

/// `PUT /api/v1/agents/{agent_id}/bundle`: the agent's code, as a raw .tar.gz body.
struct BundleRoutes {
    let services: ControlPlaneServices

    static let mediaTypes: Set<String> = ["application/gzip", "application/x-gzip"]

    func register(in table: RouteTable) {
        table.add(.put, "/api/v1/agents/{agent_id}/bundle", upload)
    }

    @Sendable func upload(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let user = try await services.authenticator.user(request)
        let agentID = try context.parameter("agent_id")
        guard let agent = try await services.store.read({ db in try await AgentStore.find(id: agentID, in: db) }),
              AccessPolicy.canView(agent, as: user) else { throw APIError.notFound("Agent") }
        guard agent.creatorID == user.id else { throw APIError.forbidden("Only the agent's creator may upload its code") }
        let mediaType = request.headers[.contentType]?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard let mediaType, Self.mediaTypes.contains(mediaType) else {
            throw APIError(.unsupportedMediaType, "A bundle is sent as Content-Type: application/gzip (a .tar.gz)")
        }
        let archive = try await RequestBody.bytes(request, limit: services.settings.maxBundleBytes)
        guard !archive.isEmpty else { throw APIError.invalid(["body"], "The bundle is empty", type: "bundle_invalid") }
        let inspected: BundleInspector.Inspected
        do {
            inspected = try BundleInspector.inspect(archive, profiles: services.profiles)
        } catch {
            throw APIError.invalid(["body"], "Bundle refused: \(error.description)", type: "bundle_invalid")
        }
        let updated: Agent = try await services.store.transaction { db in
            // Re-read inside the transaction: a concurrent upload must not be lost or bump twice.
            guard var current = try await AgentStore.find(id: agentID, in: db) else { throw APIError.notFound("Agent") }
            if current.bundleHash == inspected.sha256 { return current }
            try await BundleStore.save(sha256: inspected.sha256, archive: archive, manifest: inspected.manifest, in: db)
            current.bundleHash = inspected.sha256
            current.version = AgentVersion.next(after: current.version)
            current.updatedAt = Timestamp.now()
            try await AgentStore.update(current, in: db)
            return current
        }
        return JSONResponse.make(.ok, updated.json)
    }
}

/// Agent versions are `MAJOR.MINOR.PATCH`; new code bumps the patch.
enum AgentVersion {
    static func next(after version: String) -> String {
        let parts = version.split(separator: ".").map { Int($0) }
        guard parts.count == 3, let major = parts[0], let minor = parts[1], let patch = parts[2] else { return "1.0.1" }
        return "\(major).\(minor).\(patch + 1)"
    }
}
