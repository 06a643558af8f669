/// The API's OpenAPI 3.1 document: `OpenAPIPaths` (the operations) and `OpenAPISchemas`
/// (components), assembled. Served at `/api/v1/openapi.json`.
enum OpenAPIDocument {
    static func document() -> JSONValue {
        [
            "openapi": "3.1.0",
            "info": [
                "title": "AgentGrid API",
                "version": .string(AgentGridVersion.current),
                "description": """
                    The AgentGrid control plane. JSON in and out; times are ISO 8601 in UTC; ids are UUID strings. \
                    Errors are `{"detail": message}`, validation errors 422 `{"detail": [{loc, msg, type}]}`. \
                    Collection paths also answer with a trailing slash. Credits are exact decimals with at most 3 places.
                    """,
            ],
            "servers": [["url": "/"]],
            "tags": .array(tags.map { ["name": .string($0.0), "description": .string($0.1)] }),
            "paths": paths(OpenAPIPaths.operations),
            "components": OpenAPISchemas.components,
        ]
    }

    static let tags: [(String, String)] = [
        ("Health", "Liveness, readiness and metrics."),
        ("Auth", "Signup, login, token refresh and logout."),
        ("Users", "The caller's own account."),
        ("Admin", "Administration (admins only)."),
        ("Agents", "The agent marketplace."),
        ("Creators", "A creator's own agents and figures."),
        ("Executions", "Running agents: submit, follow, cancel, read outputs and logs."),
        ("Credits", "The caller's balance and credits ledger."),
        ("Meta", "This document."),
    ]

    /// `{path: {method: operation}}`, paths in the order first seen.
    static func paths(_ operations: [OpenAPIOperation]) -> JSONValue {
        var paths = JSONObject()
        for operation in operations {
            var item = paths[operation.path]?.objectValue ?? [:]
            item[operation.method.rawValue.lowercased()] = operation.value
            paths[operation.path] = .object(item)
        }
        return .object(paths)
    }
}
