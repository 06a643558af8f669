import SQLKit

/// The public listing's filters, already validated.
struct AgentFilter: Sendable {
    enum Sort: String, Sendable, CaseIterable {
        case popular, rating, newest
        case priceLow = "price_low"
        case priceHigh = "price_high"
    }

    var statuses: [AgentStatus]? = [.active]  // nil: any status (a creator's own list)
    var creatorID: String?
    var category: AgentCategory?
    var search: String?
    var minRating: Double?
    var maxPriceMilli: Int64?
    var tags: [String] = []
    var sort: Sort = .newest
    var skip: Int64 = 0
    var limit: Int64 = 20
}

enum AgentStore {
    static let columns = """
        id, name, description, long_description, category, tags, creator_id, version, price_milli, rating,
        total_runs, total_reviews, status, config, capabilities, limitations, thumbnail_url, demo_available,
        bundle_hash, created_at, updated_at
        """

    static func decode(_ row: any SQLRow) throws -> Agent {
        func json(_ column: String) throws -> JSONValue {
            guard let text = try row.decode(column: column, as: String?.self) else { return .null }
            return (try? JSONParser.parse(Array(text.utf8))) ?? .null
        }
        func strings(_ value: JSONValue) -> [String] { value.arrayValue?.compactMap(\.stringValue) ?? [] }
        let limitations = try json("limitations")
        return Agent(
            id: try row.decode(column: "id", as: String.self),
            name: try row.decode(column: "name", as: String.self),
            description: try row.decode(column: "description", as: String.self),
            longDescription: try row.decode(column: "long_description", as: String?.self),
            category: AgentCategory(rawValue: try row.decode(column: "category", as: String.self)) ?? .content,
            tags: strings(try json("tags")),
            creatorID: try row.decode(column: "creator_id", as: String.self),
            version: try row.decode(column: "version", as: String.self),
            priceMilli: try row.decode(column: "price_milli", as: Int64.self),
            rating: try row.decode(column: "rating", as: Double.self),
            totalRuns: try row.decode(column: "total_runs", as: Int64.self),
            totalReviews: try row.decode(column: "total_reviews", as: Int64.self),
            status: AgentStatus(rawValue: try row.decode(column: "status", as: String.self)) ?? .inactive,
            config: try json("config"),
            capabilities: strings(try json("capabilities")),
            limitations: limitations == .null ? nil : strings(limitations),
            thumbnailURL: try row.decode(column: "thumbnail_url", as: String?.self),
            demoAvailable: try row.decode(column: "demo_available", as: Bool.self),
            bundleHash: try row.decode(column: "bundle_hash", as: String?.self),
            createdAt: try row.decode(column: "created_at", as: Int64.self),
            updatedAt: try row.decode(column: "updated_at", as: Int64.self))
    }

    static func find(id: String, in db: any SQLDatabase) async throws -> Agent? {
        try await db.raw("SELECT \(unsafeRaw: columns) FROM agents WHERE id = \(bind: id)").first().map(decode)
    }

    static func insert(_ agent: Agent, in db: any SQLDatabase) async throws {
        try await db.raw("""
            INSERT INTO agents (\(unsafeRaw: columns), search_text) VALUES (
                \(bind: agent.id), \(bind: agent.name), \(bind: agent.description), \(bind: agent.longDescription),
                \(bind: agent.category.rawValue), \(bind: tagsJSON(agent.tags)), \(bind: agent.creatorID), \(bind: agent.version),
                \(bind: agent.priceMilli), \(bind: agent.rating), \(bind: agent.totalRuns), \(bind: agent.totalReviews),
                \(bind: agent.status.rawValue), \(bind: agent.config.serializedString()),
                \(bind: tagsJSON(agent.capabilities)), \(bind: agent.limitations.map(tagsJSON)),
                \(bind: agent.thumbnailURL), \(bind: agent.demoAvailable), \(bind: agent.bundleHash),
                \(bind: agent.createdAt), \(bind: agent.updatedAt), \(bind: agent.searchText))
            """).run()
        try await replaceTags(agentID: agent.id, tags: agent.tags, in: db)
    }

    /// Writes every editable column of `agent` (the caller read it, changed it, validated it).
    static func update(_ agent: Agent, in db: any SQLDatabase) async throws {
        try await db.raw("""
            UPDATE agents SET name = \(bind: agent.name), description = \(bind: agent.description),
                long_description = \(bind: agent.longDescription), category = \(bind: agent.category.rawValue),
                tags = \(bind: tagsJSON(agent.tags)), price_milli = \(bind: agent.priceMilli),
                status = \(bind: agent.status.rawValue), config = \(bind: agent.config.serializedString()),
                capabilities = \(bind: tagsJSON(agent.capabilities)), limitations = \(bind: agent.limitations.map(tagsJSON)),
                thumbnail_url = \(bind: agent.thumbnailURL), demo_available = \(bind: agent.demoAvailable),
                version = \(bind: agent.version), bundle_hash = \(bind: agent.bundleHash),
                search_text = \(bind: agent.searchText), updated_at = \(bind: agent.updatedAt)
            WHERE id = \(bind: agent.id)
            """).run()
        try await replaceTags(agentID: agent.id, tags: agent.tags, in: db)
    }

    static func setStatus(id: String, status: AgentStatus, in db: any SQLDatabase) async throws {
        try await db.raw("UPDATE agents SET status = \(bind: status.rawValue), updated_at = \(bind: Timestamp.now()) WHERE id = \(bind: id)").run()
    }

    private static func replaceTags(agentID: String, tags: [String], in db: any SQLDatabase) async throws {
        try await db.raw("DELETE FROM agent_tags WHERE agent_id = \(bind: agentID)").run()
        for tag in Set(tags) {
            try await db.raw("INSERT INTO agent_tags (agent_id, tag) VALUES (\(bind: agentID), \(bind: tag))").run()
        }
    }

    private static func tagsJSON(_ list: [String]) -> String {
        JSONValue.array(list.map(JSONValue.string)).serializedString()
    }

    /// One page of agents and the total matching the filter. Every value is a bound
    /// parameter; search text is matched literally (`%`, `_` and `\` escaped).
    static func list(_ filter: AgentFilter, in db: any SQLDatabase) async throws -> (agents: [Agent], total: Int64) {
        var conditions: [SQLQueryString] = []
        if let statuses = filter.statuses {
            conditions.append("status IN (\(binds: statuses.map(\.rawValue)))")
        }
        if let creatorID = filter.creatorID { conditions.append("creator_id = \(bind: creatorID)") }
        if let category = filter.category { conditions.append("category = \(bind: category.rawValue)") }
        if let search = filter.search, !search.isEmpty {
            conditions.append("search_text LIKE \(bind: "%" + likeEscaped(search.lowercased()) + "%") ESCAPE '\\'")
        }
        if let minRating = filter.minRating { conditions.append("rating >= \(bind: minRating)") }
        if let maxPrice = filter.maxPriceMilli { conditions.append("price_milli <= \(bind: maxPrice)") }
        let tags = Array(Set(filter.tags)).sorted()
        if !tags.isEmpty {
            conditions.append("""
                id IN (SELECT agent_id FROM agent_tags WHERE tag IN (\(binds: tags))
                       GROUP BY agent_id HAVING COUNT(*) = \(bind: Int64(tags.count)))
                """)
        }
        let whereClause: SQLQueryString = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        let order: String = switch filter.sort {
        case .popular: "total_runs DESC, created_at DESC, id"
        case .rating: "rating DESC, created_at DESC, id"
        case .newest: "created_at DESC, id"
        case .priceLow: "price_milli ASC, created_at DESC, id"
        case .priceHigh: "price_milli DESC, created_at DESC, id"
        }
        let count = try await db.raw("SELECT COUNT(*) AS total FROM agents" + whereClause).first()
        let total = try count?.decode(column: "total", as: Int64.self) ?? 0
        let rows = try await db.raw(
            "SELECT \(unsafeRaw: columns) FROM agents" + whereClause
                + " ORDER BY \(unsafeRaw: order) LIMIT \(bind: filter.limit) OFFSET \(bind: filter.skip)").all()
        return (try rows.map(decode), total)
    }

    static func likeEscaped(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if character == "\\" || character == "%" || character == "_" { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }
}
