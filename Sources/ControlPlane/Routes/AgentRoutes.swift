import Foundation
import Hummingbird
import SQLKit

/// `/api/v1/agents`: the marketplace catalogue.
struct AgentRoutes {
    let services: ControlPlaneServices

    func register(in table: RouteTable) {
        table.add(.post, "/api/v1/agents", create)
        table.add(.get, "/api/v1/agents", list)
        table.add(.get, "/api/v1/agents/{agent_id}", get)
        table.add(.patch, "/api/v1/agents/{agent_id}", update)
        table.add(.delete, "/api/v1/agents/{agent_id}", delete)
    }

    @Sendable func create(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let user = try await services.authenticator.user(request)
        try AccessPolicy.requireCreator(user)
        var body = BodyValidator(try await RequestBody.json(request, context: context))
        let name = body.string("name", minLength: AgentFields.name.min, maxLength: AgentFields.name.max)
        let description = body.string("description", minLength: AgentFields.description.min, maxLength: AgentFields.description.max)
        let longDescription = body.optionalString("long_description", maxLength: AgentFields.longDescriptionMax)
        let category = body.enumeration("category", AgentCategory.self)
        let tags = body.stringList("tags", minItems: AgentFields.tags.minItems, maxItems: AgentFields.tags.maxItems,
                                   itemMinLength: 1, itemMaxLength: AgentFields.tags.itemMax)
        let price = body.credits("price_per_run", minMilli: AgentFields.priceMilli.min, maxMilli: AgentFields.priceMilli.max)
        let config = body.nested("config") { AgentConfig.read(&$0) }
        let capabilities = body.stringList("capabilities", maxItems: AgentFields.listItems.maxItems,
                                           itemMinLength: 1, itemMaxLength: AgentFields.listItems.itemMax)
        let limitations = body.optionalStringList("limitations", maxItems: AgentFields.listItems.maxItems,
                                                  itemMinLength: 1, itemMaxLength: AgentFields.listItems.itemMax)
        let demo = body.optionalBool("demo_available")
        try body.finish()
        guard let name, let description, let category, let tags, let price, let config, let capabilities else {
            throw APIError.badRequest("Invalid body")
        }
        let now = Timestamp.now()
        let agent = Agent(
            id: RandomID.uuid(), name: name, description: description, longDescription: longDescription.value,
            category: category, tags: tags, creatorID: user.id, version: "1.0.0", priceMilli: price, rating: 0,
            totalRuns: 0, totalReviews: 0, status: .pendingReview, config: config, capabilities: capabilities,
            limitations: limitations.value, thumbnailURL: nil, demoAvailable: demo.value ?? false, bundleHash: nil,
            createdAt: now, updatedAt: now)
        try await services.store.transaction { db in try await AgentStore.insert(agent, in: db) }
        return JSONResponse.make(.created, agent.json)
    }

    @Sendable func list(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        var query = QueryValidator(QueryString.parameters(request))
        let page = Page.read(&query)
        var filter = AgentFilter(skip: page.skip, limit: page.limit)
        filter.category = query.enumeration("category", AgentCategory.self)
        filter.search = query.string("search", maxLength: 200)
        filter.minRating = query.double("min_rating", min: 0, max: 5)
        filter.maxPriceMilli = query.credits("max_price", minMilli: 0, maxMilli: 1_000_000_000_000)
        filter.tags = query.stringList("tags", maxItems: 10, itemMinLength: 1, itemMaxLength: AgentFields.tags.itemMax)
        filter.sort = query.enumeration("sort_by", AgentFilter.Sort.self, default: .newest) ?? .newest
        try query.finish()
        let chosen = filter
        let result = try await services.store.read { db in try await AgentStore.list(chosen, in: db) }
        return JSONResponse.make(.ok, page.envelope(result.agents.map(\.json), total: result.total))
    }

    @Sendable func get(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let agent = try await findAgent(context)
        // Visibility of a non-active agent needs to know who asks; a missing or stale token
        // simply means "anonymous" on this public route.
        let viewer = agent.status == .active ? nil : try? await services.authenticator.user(request)
        guard AccessPolicy.canView(agent, as: viewer) else { throw APIError.notFound("Agent") }
        return JSONResponse.make(.ok, agent.json)
    }

    @Sendable func update(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let user = try await services.authenticator.user(request)
        let agentID = try context.parameter("agent_id")
        var body = BodyValidator(try await RequestBody.json(request, context: context))
        let name = body.optionalString("name", minLength: AgentFields.name.min, maxLength: AgentFields.name.max)
        let description = body.optionalString("description", minLength: AgentFields.description.min, maxLength: AgentFields.description.max)
        let longDescription = body.optionalString("long_description", maxLength: AgentFields.longDescriptionMax)
        let category = body.optionalEnumeration("category", AgentCategory.self)
        let tags = body.optionalStringList("tags", minItems: AgentFields.tags.minItems, maxItems: AgentFields.tags.maxItems,
                                           itemMinLength: 1, itemMaxLength: AgentFields.tags.itemMax)
        let price = body.optionalCredits("price_per_run", minMilli: AgentFields.priceMilli.min, maxMilli: AgentFields.priceMilli.max)
        let config = body.optionalNested("config") { AgentConfig.read(&$0) }
        let capabilities = body.optionalStringList("capabilities", maxItems: AgentFields.listItems.maxItems,
                                                   itemMinLength: 1, itemMaxLength: AgentFields.listItems.itemMax)
        let limitations = body.optionalStringList("limitations", maxItems: AgentFields.listItems.maxItems,
                                                  itemMinLength: 1, itemMaxLength: AgentFields.listItems.itemMax)
        let demo = body.optionalBool("demo_available")
        let status = body.optionalEnumeration("status", AgentStatus.self)
        // Fields that cannot be empty refuse an explicit null rather than storing one.
        for (key, isNull) in [("name", name.isNull), ("description", description.isNull), ("category", category.isNull),
                              ("tags", tags.isNull), ("price_per_run", price.isNull), ("config", config.isNull),
                              ("capabilities", capabilities.isNull), ("demo_available", demo.isNull), ("status", status.isNull)]
            where isNull {
            body.add([.key(key)], msg: "Field may not be null", type: "none_forbidden")
        }
        try body.finish()

        let updated: Agent = try await services.store.transaction { db in
            guard var agent = try await AgentStore.find(id: agentID, in: db),
                  AccessPolicy.canView(agent, as: user) else { throw APIError.notFound("Agent") }
            try AccessPolicy.requireEdit(agent, by: user)
            if let newStatus = status.value, newStatus != agent.status {
                try AccessPolicy.requireStatusChange(to: newStatus, of: agent, by: user)
                agent.status = newStatus
            }
            if let v = name.value { agent.name = v }
            if let v = description.value { agent.description = v }
            if !longDescription.isAbsent { agent.longDescription = longDescription.value }
            if let v = category.value { agent.category = v }
            if let v = tags.value { agent.tags = v }
            if let v = price.value { agent.priceMilli = v }
            if let v = config.value { agent.config = v }
            if let v = capabilities.value { agent.capabilities = v }
            if !limitations.isAbsent { agent.limitations = limitations.value }
            if let v = demo.value { agent.demoAvailable = v }
            agent.updatedAt = Timestamp.now()
            try await AgentStore.update(agent, in: db)
            return agent
        }
        return JSONResponse.make(.ok, updated.json)
    }

    @Sendable func delete(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let user = try await services.authenticator.user(request)
        let agentID = try context.parameter("agent_id")
        try await services.store.transaction { db in
            guard let agent = try await AgentStore.find(id: agentID, in: db),
                  AccessPolicy.canView(agent, as: user) else { throw APIError.notFound("Agent") }
            guard AccessPolicy.isOwnerOrAdmin(user, of: agent) else { throw APIError.forbidden("Not authorized to delete this agent") }
            try await AgentStore.setStatus(id: agent.id, status: .inactive, in: db)
        }
        return JSONResponse.noContent()
    }

    private func findAgent(_ context: APIRequestContext) async throws -> Agent {
        let agentID = try context.parameter("agent_id")
        guard let agent = try await services.store.read({ db in try await AgentStore.find(id: agentID, in: db) }) else {
            throw APIError.notFound("Agent")
        }
        return agent
    }
}
