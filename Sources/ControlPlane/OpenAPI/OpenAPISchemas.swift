/// `components`: the schemas, shared responses, headers, parameters and security scheme.
/// Response schemas list every member the server writes as required; request schemas require
/// what the handler requires. Bounds come from the same constants the handlers use where those
/// exist (`AgentFields`).
enum OpenAPISchemas: OpenAPIBuilder {
    static var components: JSONValue {
        [
            "schemas": .object(JSONObject(schemas)),
            "responses": .object(JSONObject(responses)),
            "parameters": .object(JSONObject(parameters)),
            "headers": [
                "X-Request-Id": [
                    "description": "The request's id: the caller's `X-Request-Id` when it is 1–64 characters of [A-Za-z0-9._-], else a new UUID.",
                    "required": true, "schema": ["type": "string"],
                ],
            ],
            "securitySchemes": [
                "bearerAuth": [
                    "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                    "description": "An access token from signup, login or refresh: `Authorization: Bearer <access_token>`.",
                ],
            ],
        ]
    }

    // MARK: Schemas

    static var schemas: [(String, JSONValue)] {
        [
            ("HTTPError", object(["detail": string(description: "What went wrong.")], description: "An error: `{\"detail\": message}`.")),
            ("ValidationIssue", object([
                "loc": array(["anyOf": [["type": "string"], ["type": "integer"]]],
                             description: "Where the problem is: `body` or `query`, then keys and list indices."),
                "msg": string(), "type": string(description: "Machine-readable kind, e.g. `missing`, `string_too_short`."),
            ])),
            ("ValidationError", object(["detail": array(ref("ValidationIssue"), minItems: 1)],
                                       description: "422: every problem of the request, pydantic style.")),
            ("Message", object(["message": string()])),
            ("Health", object(["status": string(enum: ["healthy"]), "version": string()])),
            ("RunnerReadiness", object(["connected": integer(minimum: 0), "configured": integer(minimum: 1)],
                                       description: "The runners this node dispatches to (absent when it dispatches nothing).")),
            ("Ready", object(["status": string(enum: ["ready"]), "store": string(enum: ["ok"]), "runners": ref("RunnerReadiness"),
                              "version": string()], required: .some(["status", "store", "version"]))),
            ("NotReady", object(["status": string(enum: ["unavailable"]), "store": string(enum: ["unreachable", "ok"]),
                                 "runners": ref("RunnerReadiness")], required: .some(["status", "store"]))),
            ("User", user),
            ("TokenPair", object([
                "access_token": string(description: "A JWT for `Authorization: Bearer`."),
                "refresh_token": string(description: "Single use: refreshing spends it and returns a successor."),
                "token_type": string(enum: ["bearer"]),
                "expires_in": integer(minimum: 1, description: "Seconds until the access token expires."),
                "user": ref("User"),
            ])),
            ("SignupRequest", signupRequest),
            ("LoginRequest", object([
                "email": string(maxLength: 320), "password": string(maxLength: 200),
            ])),
            ("RefreshRequest", object(["refresh_token": string(maxLength: 512)])),
            ("ProfileUpdate", profileUpdate),
            ("AdminUserUpdate", object([
                "role": nullable(enumeration(Role.self)),
                "is_active": nullable(boolean(description: "false also revokes the user's refresh tokens.")),
            ], required: [], description: "Absent or null members are left unchanged. Admins cannot demote or deactivate themselves.")),
            ("RequiredInput", object([
                "name": string(minLength: 1, maxLength: 64), "type": enumeration(AgentConfig.InputType.self), "required": boolean(),
            ])),
            ("RequiredInputWrite", object([
                "name": string(minLength: 1, maxLength: 64, description: "Letters, digits, '-' and '_'; unique within the agent."),
                "type": enumeration(AgentConfig.InputType.self, default: .string),
                "required": boolean(default: true),
            ], required: ["name"])),
            ("AgentConfig", agentConfig(write: false)),
            ("AgentConfigWrite", agentConfig(write: true)),
            ("Agent", agent),
            ("AgentCreate", agentCreate),
            ("AgentUpdate", agentUpdate),
            ("AgentList", page(of: "Agent", "A page of agents.")),
            ("Balance", object(["balance": credits(minimum: 0, "The balance in credits")])),
            ("Transaction", object([
                "id": uuid, "amount": credits("Credits; negative for a debit"), "type": enumeration(LedgerEntryType.self),
                "description": string(), "reference_id": nullable(string(description: "The execution, purchase or event it belongs to.")),
                "created_at": dateTime,
            ])),
            ("TransactionList", page(of: "Transaction", "A page of ledger rows.")),
            ("ExecuteRequest", object(["inputs": anyObject(description: "The agent's inputs; its `required_inputs` must be present with their types. Sent to the agent as JSON on stdin.")])),
            ("Execution", execution),
            ("ExecutionList", page(of: "Execution", "A page of executions.")),
            ("ExecutionLogs", object(["execution_id": uuid, "status": enumeration(ExecutionStatus.self),
                                      "logs": string(description: "The run's stderr so far (all of it once the run has ended).")])),
            ("CreatorStats", object([
                "total_agents": integer(minimum: 0), "active_agents": integer(minimum: 0), "pending_agents": integer(minimum: 0),
                "total_runs": integer(minimum: 0), "total_reviews": integer(minimum: 0),
                "average_rating": number(minimum: 0, maximum: 5, description: "Review-weighted, 2 decimals; 0 without reviews."),
                "total_earnings": credits("Credits earned from runs of the creator's agents"),
            ])),
        ]
    }

    static var execution: JSONValue {
        let count = integer(minimum: 0)
        return object([
            "id": uuid, "agent_id": uuid, "user_id": uuid, "status": enumeration(ExecutionStatus.self),
            "inputs": anyObject(), "outputs": described([:], "The agent's stdout as JSON once it completed; else null."),
            "error_message": nullable(string(description: "Why it failed, when it did.")),
            "credits_used": credits(minimum: 0, "The price held for this run"),
            "outcome": nullable(enumeration(ExecutionOutcome.self)),
            "usage": nullable(object(["wall_ms": nullable(count), "cpu_ms": nullable(count), "peak_memory_bytes": nullable(count)])),
            "exit_code": nullable(integer()), "limit_hit": nullable(string(description: "The limit that ended the run.")),
            "bundle_hash": nullable(string(description: "SHA-256 of the agent bundle this run used.")),
            "created_at": dateTime, "started_at": nullable(dateTime), "completed_at": nullable(dateTime),
            "duration_ms": nullable(count),
        ])
    }

    /// The list envelope of `Page.envelope` around items of schema `item`.
    static func page(of item: String, _ description: String) -> JSONValue {
        object([
            "data": array(ref(item)),
            "total": integer(minimum: 0, description: "Matching items in all pages."),
            "page": integer(minimum: 1, description: "skip / limit + 1"),
            "per_page": integer(minimum: 1, maximum: 100),
            "total_pages": integer(minimum: 0),
        ], description: description)
    }

    static var user: JSONValue {
        object([
            "id": uuid, "email": string(format: "email"), "username": string(minLength: 3, maxLength: 20),
            "full_name": string(), "avatar_url": nullable(string()), "bio": nullable(string()),
            "role": enumeration(Role.self), "credits": credits(minimum: 0, "The balance in credits"),
            "is_active": boolean(), "is_verified": boolean(), "created_at": dateTime, "updated_at": dateTime,
        ])
    }

    static var signupRequest: JSONValue {
        object([
            "email": string(maxLength: 254, format: "email", description: "Stored lowercased; must be unique."),
            "username": string(minLength: 3, maxLength: 20, description: "Letters, digits, '.', '-' and '_'; must be unique."),
            "full_name": string(minLength: 1, maxLength: 200),
            "password": string(minLength: 8, maxLength: 72,
                               description: "At least one uppercase letter, one lowercase letter and one digit; at most 72 bytes of UTF-8."),
        ])
    }

    static var profileUpdate: JSONValue {
        object([
            "full_name": string(minLength: 1, maxLength: 200),
            "bio": nullable(string(maxLength: 2_000)),
            "avatar_url": nullable(string(maxLength: 2_048, pattern: "^(https?://|/)",
                                          description: "An http(s) URL or a path on this server.")),
        ], required: [], description: "Absent members are left unchanged; `null` clears bio or avatar_url.")
    }

    static func agentConfig(write: Bool) -> JSONValue {
        let members: KeyValuePairs<String, JSONValue> = [
            "model": string(minLength: 1, maxLength: 100),
            "temperature": number(minimum: 0, maximum: 2),
            "max_tokens": integer(minimum: 100, maximum: 32_000),
            "timeout_seconds": integer(minimum: 10, maximum: 300),
            "required_inputs": array(ref(write ? "RequiredInputWrite" : "RequiredInput"), maxItems: 50),
            "output_schema": write ? nullable(anyObject(description: "A JSON Schema for the outputs; absent or null: {}."))
                                   : anyObject(description: "A JSON Schema for the outputs."),
        ]
        return write
            ? object(members, required: ["model", "temperature", "max_tokens", "timeout_seconds", "required_inputs"],
                     description: "Unknown members are ignored.")
            : object(members)
    }

    static var agent: JSONValue {
        object([
            "id": uuid, "name": agentName, "description": agentDescription, "long_description": nullable(longDescription),
            "category": enumeration(AgentCategory.self), "tags": tags, "creator_id": uuid,
            "version": string(description: "Bumped by each bundle upload; 1.0.0 at creation."),
            "price_per_run": price, "rating": number(minimum: 0, maximum: 5),
            "total_runs": integer(minimum: 0), "total_reviews": integer(minimum: 0),
            "status": enumeration(AgentStatus.self), "config": ref("AgentConfig"),
            "capabilities": listItems, "limitations": nullable(listItems), "thumbnail_url": nullable(string()),
            "demo_available": boolean(), "has_bundle": boolean(description: "false: a prompt agent (the built-in program runs)."),
            "created_at": dateTime, "updated_at": dateTime,
        ])
    }

    static var agentCreate: JSONValue {
        object([
            "name": agentName, "description": agentDescription, "long_description": nullable(longDescription),
            "category": enumeration(AgentCategory.self), "tags": tags, "price_per_run": price,
            "config": ref("AgentConfigWrite"), "capabilities": listItems, "limitations": nullable(listItems),
            "demo_available": nullable(boolean(default: false)),
        ], required: ["name", "description", "category", "tags", "price_per_run", "config", "capabilities"],
        description: "A new agent starts in `pending_review`, version 1.0.0.")
    }

    static var agentUpdate: JSONValue {
        object([
            "name": agentName, "description": agentDescription, "long_description": nullable(longDescription),
            "category": enumeration(AgentCategory.self), "tags": tags, "price_per_run": price,
            "config": ref("AgentConfigWrite"), "capabilities": listItems, "limitations": nullable(listItems),
            "demo_available": boolean(),
            "status": described(enumeration(AgentStatus.self),
                                 "Only an admin other than the creator may set active or rejected; an owner may set inactive or pending_review."),
        ], required: [], description: "Absent members are left unchanged; only long_description and limitations may be null.")
    }

    private static var agentName: JSONValue { string(minLength: AgentFields.name.min, maxLength: AgentFields.name.max) }
    private static var agentDescription: JSONValue {
        string(minLength: AgentFields.description.min, maxLength: AgentFields.description.max)
    }
    private static var longDescription: JSONValue { string(maxLength: AgentFields.longDescriptionMax) }
    private static var tags: JSONValue {
        array(string(minLength: 1, maxLength: AgentFields.tags.itemMax), minItems: AgentFields.tags.minItems, maxItems: AgentFields.tags.maxItems)
    }
    private static var listItems: JSONValue {
        array(string(minLength: 1, maxLength: AgentFields.listItems.itemMax), maxItems: AgentFields.listItems.maxItems)
    }
    private static var price: JSONValue {
        credits(minimum: .credits(AgentFields.priceMilli.min), maximum: .credits(AgentFields.priceMilli.max), "Price of one run in credits")
    }

    // MARK: Shared responses

    static var responses: [(String, JSONValue)] {
        [
            ("BadRequest", error("The request conflicts with the current state (see detail).")),
            ("Unauthorized", response("Missing, invalid or expired credentials.",
                                      content: ["application/json": ["schema": ref("HTTPError")]],
                                      headers: ["WWW-Authenticate": [
                                          "description": "Always `Bearer`.", "required": true, "schema": ["type": "string", "enum": ["Bearer"]],
                                      ]])),
            ("Forbidden", error("Authenticated, but the role or ownership does not allow this.")),
            ("NotFound", error("No such resource, or not visible to the caller.")),
            ("ContentTooLarge", error("The request body is larger than the server's cap.")),
            ("UnsupportedMediaType", error("The body is not of the media type this operation takes.")),
            ("ValidationFailed", response("The body or query is not valid; every problem is listed.",
                                          content: ["application/json": ["schema": ref("ValidationError")]])),
            ("TooManyRequests", response("Too many failed logins for this account or address.",
                                         content: ["application/json": ["schema": ref("HTTPError")]],
                                         headers: ["Retry-After": [
                                             "description": "Seconds to wait before trying again.", "required": true,
                                             "schema": ["type": "integer", "minimum": 1],
                                         ]])),
        ]
    }

    private static func error(_ description: String) -> JSONValue {
        response(description, content: ["application/json": ["schema": ref("HTTPError")]])
    }

    // MARK: Shared parameters

    static var parameters: [(String, JSONValue)] {
        [
            ("Skip", queryParam("skip", integer(minimum: 0, maximum: 1_000_000_000, default: 0), "Items to skip.")),
            ("Limit", queryParam("limit", integer(minimum: 1, maximum: 100, default: 20), "Page size.")),
        ]
    }
}
