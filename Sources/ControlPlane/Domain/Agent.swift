public enum AgentCategory: String, Sendable, CaseIterable {
    case content, research, analysis, automation, development, design, marketing
    case customerService = "customer_service"
}

public enum AgentStatus: String, Sendable, CaseIterable {
    case active, inactive
    case pendingReview = "pending_review"
    case rejected
}

/// An agent row. JSON-valued columns are kept as `JSONValue` and written back verbatim.
public struct Agent: Sendable, Equatable {
    public var id: String
    public var name: String
    public var description: String
    public var longDescription: String?
    public var category: AgentCategory
    public var tags: [String]
    public var creatorID: String
    public var version: String
    public var priceMilli: Int64
    public var rating: Double
    public var totalRuns: Int64
    public var totalReviews: Int64
    public var status: AgentStatus
    public var config: JSONValue
    public var capabilities: [String]
    public var limitations: [String]?
    public var thumbnailURL: String?
    public var demoAvailable: Bool
    public var bundleHash: String?
    public var createdAt: Int64
    public var updatedAt: Int64

    /// What the case-insensitive search matches: name and description, lowercased with
    /// Unicode rules in Swift so both engines compare the same text.
    var searchText: String { (name + "\n" + description).lowercased() }

    var json: JSONValue {
        [
            "id": .string(id), "name": .string(name), "description": .string(description),
            "long_description": JSONValue(optional: longDescription), "category": .string(category.rawValue),
            "tags": .array(tags.map(JSONValue.string)), "creator_id": .string(creatorID), "version": .string(version),
            "price_per_run": .credits(priceMilli), "rating": .number(JSONNumber(rating)),
            "total_runs": .number(JSONNumber(totalRuns)), "total_reviews": .number(JSONNumber(totalReviews)),
            "status": .string(status.rawValue), "config": config,
            "capabilities": .array(capabilities.map(JSONValue.string)),
            "limitations": limitations.map { .array($0.map(JSONValue.string)) } ?? .null,
            "thumbnail_url": JSONValue(optional: thumbnailURL), "demo_available": .bool(demoAvailable),
            "has_bundle": .bool(bundleHash != nil),
            "created_at": .string(Timestamp.iso8601(createdAt)), "updated_at": .string(Timestamp.iso8601(updatedAt)),
        ]
    }
}
