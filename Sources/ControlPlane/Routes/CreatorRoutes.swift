import Hummingbird

/// `/api/v1/creators/me/…`: a creator's own agents (every status) and figures.
struct CreatorRoutes {
    let services: ControlPlaneServices

    func register(in table: RouteTable) {
        table.add(.get, "/api/v1/creators/me/agents", myAgents)
        table.add(.get, "/api/v1/creators/me/stats", myStats)
    }

    @Sendable func myAgents(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let user = try await services.authenticator.user(request)
        var query = QueryValidator(QueryString.parameters(request))
        let page = Page.read(&query)
        let status = query.enumeration("status", AgentStatus.self)
        try query.finish()
        var filter = AgentFilter(statuses: status.map { [$0] }, creatorID: user.id, skip: page.skip, limit: page.limit)
        filter.sort = .newest
        let chosen = filter
        let result = try await services.store.read { db in try await AgentStore.list(chosen, in: db) }
        return JSONResponse.make(.ok, page.envelope(result.agents.map(\.json), total: result.total))
    }

    @Sendable func myStats(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let user = try await services.authenticator.user(request)
        let stats = try await services.store.read { db in try await CreatorStatsStore.stats(creatorID: user.id, in: db) }
        return JSONResponse.make(.ok, stats)
    }
}
