/// Every operation the router serves, one `op` per `RouteTable.add`, grouped as the route files
/// are. `OpenAPIDocumentTests` fails when this list and the router's endpoints differ.
enum OpenAPIPaths: OpenAPIBuilder {
    static var operations: [OpenAPIOperation] { health + auth + users + agents + executions + creators + credits + meta }

    // MARK: Health and operations

    static var health: [OpenAPIOperation] {
        [
            op(.get, "/health", id: "health", tag: "Health", summary: "Liveness",
               responses: [json(200, "The process is up.", ref("Health"))]),
            op(.get, "/health/ready", id: "readiness", tag: "Health", summary: "Readiness: the store answers and a runner is connected",
               responses: [json(200, "Ready to serve.", ref("Ready")), json(503, "A dependency is unreachable.", ref("NotReady"))]),
            op(.get, "/metrics", id: "metrics", tag: "Health", summary: "Prometheus metrics",
               responses: [text(200, "Prometheus text exposition format.", mediaType: "text/plain")]),
        ]
    }

    static var meta: [OpenAPIOperation] {
        [
            op(.get, "/api/v1/openapi.json", id: "getOpenAPIDocument", tag: "Meta", summary: "This OpenAPI document",
               responses: [json(200, "The OpenAPI 3.1 document.", anyObject())]),
        ]
    }

    // MARK: Credits

    static var credits: [OpenAPIOperation] {
        [
            op(.get, "/api/v1/credits/balance", id: "getBalance", tag: "Credits", summary: "The caller's balance",
               auth: .bearer, responses: [json(200, "The balance in credits.", ref("Balance"))]),
            op(.get, "/api/v1/credits/transactions", id: "listTransactions", tag: "Credits", summary: "The caller's ledger, newest first",
               description: "Every change of the balance is one row; the rows always sum to the balance.",
               auth: .bearer,
               parameters: [parameterRef("Skip"), parameterRef("Limit"),
                            queryParam("type", enumeration(LedgerEntryType.self), "Only rows of this type.")],
               responses: [json(200, "A page of ledger rows.", ref("TransactionList"))]),
        ]
    }

    // MARK: Auth

    static var auth: [OpenAPIOperation] {
        [
            op(.post, "/api/v1/auth/signup", id: "signup", tag: "Auth", summary: "Create an account and log in",
               description: "New accounts have role `user` and 100 welcome credits.",
               body: ref("SignupRequest"),
               responses: [json(201, "The account was created; a new login.", ref("TokenPair")),
                           described(badRequest, "`Email already registered` or `Username already taken`.")]),
            op(.post, "/api/v1/auth/login", id: "login", tag: "Auth", summary: "Log in with email and password",
               body: ref("LoginRequest"),
               responses: [json(200, "A new login.", ref("TokenPair")),
                           described(shared(401, "Unauthorized"), "`Incorrect email or password`."),
                           described(forbidden, "The account is deactivated."),
                           tooManyRequests]),
            op(.post, "/api/v1/auth/refresh", id: "refreshTokens", tag: "Auth", summary: "Exchange a refresh token for a new pair",
               description: "The refresh token is spent; presenting a spent one again revokes every token of that login.",
               body: ref("RefreshRequest"),
               responses: [json(200, "A new pair; the old refresh token no longer works.", ref("TokenPair")),
                           described(shared(401, "Unauthorized"), "Unknown, expired, revoked or reused refresh token.")]),
            op(.post, "/api/v1/auth/logout", id: "logout", tag: "Auth", summary: "Revoke the caller's refresh tokens",
               auth: .bearer, responses: [json(200, "Every refresh token of the caller is revoked.", ref("Message"))]),
            op(.get, "/api/v1/auth/me", id: "getCurrentUser", tag: "Auth", summary: "The caller",
               auth: .bearer, responses: [json(200, "The caller's account.", ref("User"))]),
        ]
    }

    // MARK: Users and roles

    static var users: [OpenAPIOperation] {
        [
            op(.patch, "/api/v1/users/me", id: "updateProfile", tag: "Users", summary: "Update the caller's profile",
               auth: .bearer, body: ref("ProfileUpdate"),
               responses: [json(200, "The updated account.", ref("User"))]),
            op(.post, "/api/v1/users/me/creator", id: "becomeCreator", tag: "Users", summary: "Become a creator",
               description: "Self-serve; creators and admins are returned unchanged.",
               auth: .bearer, responses: [json(200, "The account, now able to create agents.", ref("User"))]),
            op(.patch, "/api/v1/admin/users/{user_id}", id: "adminUpdateUser", tag: "Admin", summary: "Set a user's role or active flag",
               auth: .bearer, parameters: [pathParam("user_id", "The user to change.", schema: string())],
               body: ref("AdminUserUpdate"),
               responses: [json(200, "The updated account.", ref("User")),
                           described(badRequest, "An admin tried to demote or deactivate themselves."),
                           described(forbidden, "The caller is not an admin."),
                           described(notFound, "No such user.")]),
        ]
    }

    // MARK: Agents

    static var agents: [OpenAPIOperation] {
        let agentID = pathParam("agent_id", "The agent.", schema: string())
        return [
            op(.post, "/api/v1/agents", id: "createAgent", tag: "Agents", summary: "Create an agent",
               description: "Creators and admins only. The agent starts in `pending_review` until an admin approves it.",
               auth: .bearer, body: ref("AgentCreate"),
               responses: [json(201, "The new agent.", ref("Agent")), described(forbidden, "The caller is not a creator.")]),
            op(.get, "/api/v1/agents", id: "listAgents", tag: "Agents", summary: "Browse the active agents",
               parameters: [
                   parameterRef("Skip"), parameterRef("Limit"),
                   queryParam("category", enumeration(AgentCategory.self), "Only this category."),
                   queryParam("search", string(maxLength: 200), "Case-insensitive text in the name or description."),
                   queryParam("min_rating", number(minimum: 0, maximum: 5), "Only agents rated at least this."),
                   queryParam("max_price", credits(minimum: 0, maximum: 1_000_000_000, "Highest price per run"),
                              "Only agents costing at most this per run."),
                   queryParam("tags", array(string(minLength: 1, maxLength: AgentFields.tags.itemMax), maxItems: 10),
                              "Repeatable (`?tags=a&tags=b`); an agent must carry every one."),
                   queryParam("sort_by", enumeration(AgentFilter.Sort.self, default: .newest), "Order of the results."),
               ],
               responses: [json(200, "A page of active agents.", ref("AgentList"))]),
            op(.get, "/api/v1/agents/{agent_id}", id: "getAgent", tag: "Agents", summary: "One agent",
               description: "Active agents are public; any other status is visible only to its creator and admins (a token is read when sent).",
               auth: .optionalBearer, parameters: [agentID],
               responses: [json(200, "The agent.", ref("Agent")), described(notFound, "No such agent, or not visible to the caller.")]),
            op(.patch, "/api/v1/agents/{agent_id}", id: "updateAgent", tag: "Agents", summary: "Update an agent",
               description: "Owner or admin.",
               auth: .bearer, parameters: [agentID], body: ref("AgentUpdate"),
               responses: [json(200, "The updated agent.", ref("Agent")),
                           described(forbidden, "Not the owner or an admin, or a status change the caller may not make."),
                           described(notFound, "No such agent, or not visible to the caller.")]),
            op(.delete, "/api/v1/agents/{agent_id}", id: "deleteAgent", tag: "Agents", summary: "Withdraw an agent",
               description: "Soft delete: the agent becomes `inactive`. Owner or admin.",
               auth: .bearer, parameters: [agentID],
               responses: [noContent("The agent is inactive."),
                           described(forbidden, "Not the owner or an admin."),
                           described(notFound, "No such agent, or not visible to the caller.")]),
            op(.put, "/api/v1/agents/{agent_id}/bundle", id: "uploadAgentBundle", tag: "Agents", summary: "Upload the agent's code",
               description: """
                   The body is a .tar.gz with `agent.yaml` at its root (`entrypoint`, `profile`, optional `workdir`, \
                   `limits` {memory, timeout, pids}, `output_schema`) and the agent's files. It is checked as the runner \
                   would unpack it (no absolute paths, `..`, devices, hard links or escaping symlinks; size caps), \
                   the profile must exist and the limits fit its ceilings, and the entrypoint must be in the bundle. \
                   Stored by SHA-256; new code bumps the patch `version`, the same archive again changes nothing.
                   """,
               auth: .bearer, parameters: [agentID],
               body: ["type": "string", "contentMediaType": "application/gzip"], bodyMediaType: "application/gzip",
               responses: [json(200, "The agent, with its new version.", ref("Agent")),
                           described(forbidden, "Not the agent's creator."),
                           described(notFound, "No such agent, or not visible to the caller."),
                           described(contentTooLarge, "Over AGENTGRID_MAX_BUNDLE_BYTES (4 MiB by default)."),
                           described(validationFailed, "The archive, its manifest, profile, limits or entrypoint is refused; `msg` says why."),
                           unsupportedMediaType]),
        ]
    }

    // MARK: Executions

    static var executions: [OpenAPIOperation] {
        let executionID = pathParam("execution_id", "The execution.")
        let idempotencyKey: JSONValue = [
            "name": "Idempotency-Key", "in": "header", "required": false, "schema": string(minLength: 1, maxLength: 255),
            "description": "Makes a retry safe: the same key with the same request returns the first execution (header `Idempotent-Replayed: true`) and charges nothing more; with a different request, 409.",
        ]
        return [
            op(.post, "/api/v1/agents/{agent_id}/execute", id: "executeAgent", tag: "Executions", summary: "Run an agent",
               description: """
                   Holds the agent's price from the caller's balance (a `usage` ledger row) and queues the run, in one \
                   transaction. On `completed` the hold is captured (70% to the creator, 30% to the platform); on any other \
                   ending it is refunded. An agent without a code bundle (a prompt agent) cannot run yet: 400.
                   """,
               auth: .bearer, parameters: [pathParam("agent_id", "The agent.", schema: string()), idempotencyKey],
               body: ref("ExecuteRequest"),
               responses: [json(201, "The queued execution (`pending`).", ref("Execution")),
                           described(badRequest, "A prompt agent (no bundle), or a malformed Idempotency-Key."),
                           described(shared(402, "BadRequest"), "The balance is below the agent's price; nothing was held."),
                           described(notFound, "No such agent, or it is not active."),
                           described(shared(409, "BadRequest"), "The Idempotency-Key was used with a different request.")]),
            op(.get, "/api/v1/executions", id: "listExecutions", tag: "Executions", summary: "The caller's executions, newest first",
               auth: .bearer,
               parameters: [parameterRef("Skip"), parameterRef("Limit"),
                            queryParam("status", enumeration(ExecutionStatus.self), "Only this status."),
                            queryParam("agent_id", string(minLength: 1, maxLength: 64), "Only runs of this agent.")],
               responses: [json(200, "A page of the caller's executions.", ref("ExecutionList"))]),
            op(.get, "/api/v1/executions/{execution_id}", id: "getExecution", tag: "Executions", summary: "One of the caller's executions",
               auth: .bearer, parameters: [executionID],
               responses: [json(200, "The execution.", ref("Execution")),
                           described(notFound, "No such execution, or another user's.")]),
            op(.post, "/api/v1/executions/{execution_id}/cancel", id: "cancelExecution", tag: "Executions", summary: "Cancel a run",
               description: "A pending run ends at once; a running one is stopped by its runner (the answer waits up to 10 s for that). Either way the hold is refunded.",
               auth: .bearer, parameters: [executionID],
               responses: [json(200, "`Execution cancelled`.", ref("Message")),
                           json(202, "The runner has not confirmed the stop yet; the run ends as `cancelled` when it does.", ref("Message")),
                           described(badRequest, "The execution had already finished."),
                           described(notFound, "No such execution, or another user's.")]),
            op(.get, "/api/v1/executions/{execution_id}/logs", id: "getExecutionLogs", tag: "Executions", summary: "The run's log (its stderr)",
               description: """
                   As JSON by default. With `Accept: text/event-stream` the response follows the run live until it ends: \
                   `status` events (`{"status": …}`), `log` events (`{"text": …}`) and a final `end` event carrying the execution.
                   """,
               auth: .bearer, parameters: [executionID],
               responses: [OpenAPIReply(status: 200, value: response("The log so far, or the live stream.", content: [
                               "application/json": ["schema": ref("ExecutionLogs")],
                               "text/event-stream": ["schema": string(description: "Server-sent events.")],
                           ])),
                           described(notFound, "No such execution, or another user's.")]),
        ]
    }

    // MARK: Creators

    static var creators: [OpenAPIOperation] {
        [
            op(.get, "/api/v1/creators/me/agents", id: "listMyAgents", tag: "Creators", summary: "The caller's agents, every status",
               auth: .bearer,
               parameters: [parameterRef("Skip"), parameterRef("Limit"),
                            queryParam("status", enumeration(AgentStatus.self), "Only this status.")],
               responses: [json(200, "A page of the caller's agents, newest first.", ref("AgentList"))]),
            op(.get, "/api/v1/creators/me/stats", id: "getMyCreatorStats", tag: "Creators", summary: "The caller's creator figures",
               auth: .bearer, responses: [json(200, "Totals over the caller's agents and earnings.", ref("CreatorStats"))]),
        ]
    }

    /// A shared response with an operation-specific description.
    private static func described(_ reply: OpenAPIReply, _ text: String) -> OpenAPIReply {
        OpenAPIReply(status: reply.status, value: described(reply.value, text))
    }
}
