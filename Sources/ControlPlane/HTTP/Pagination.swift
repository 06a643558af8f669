/// `skip`/`limit` of the API's list calls and the envelope they answer with.
struct Page: Sendable {
    var skip: Int64
    var limit: Int64

    static func read(_ query: inout QueryValidator) -> Page {
        let skip = query.int("skip", default: 0, min: 0, max: 1_000_000_000) ?? 0
        let limit = query.int("limit", default: 20, min: 1, max: 100) ?? 20
        return Page(skip: skip, limit: limit)
    }

    func envelope(_ items: [JSONValue], total: Int64) -> JSONValue {
        [
            "data": .array(items), "total": .number(JSONNumber(total)),
            "page": .number(JSONNumber(skip / limit + 1)), "per_page": .number(JSONNumber(limit)),
            "total_pages": .number(JSONNumber((total + limit - 1) / limit)),
        ]
    }
}
