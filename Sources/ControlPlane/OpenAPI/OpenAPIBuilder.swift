import HTTPTypes

// A small vocabulary for writing the OpenAPI document as Swift: schemas (`string(minLength: 3)`,
// `object([...], required: .all)`, `ref("User")`), parameters (`pathParam`, `queryParam`) and
// operations (`op(.get, "/api/v1/...", id: ..., responses: [...])`). Types that conform to
// `OpenAPIBuilder` (the schema and path catalogues) call these unqualified.

/// Who may call an operation.
enum OpenAPIAuth: Sendable {
    /// No token is read.
    case none
    /// `Authorization: Bearer <access token>` is required; the operation answers 401 without it.
    case bearer
    /// A token is read when present (to widen what is visible) but never required.
    case optionalBearer
}

/// One response of an operation: its status code and its OpenAPI Response Object (or a `$ref`).
struct OpenAPIReply: Sendable {
    let status: Int
    let value: JSONValue
}

/// One operation, placed under its path and method.
struct OpenAPIOperation: Sendable {
    let method: HTTPRequest.Method
    let path: String
    let value: JSONValue
}

/// Which members of an object schema are required.
enum OpenAPIRequired: Sendable, ExpressibleByArrayLiteral {
    case all
    case some([String])

    init(arrayLiteral elements: String...) { self = .some(elements) }
}

protocol OpenAPIBuilder {}

extension OpenAPIBuilder {
    // MARK: References

    /// `{"$ref": "#/components/schemas/<name>"}`
    static func ref(_ name: String) -> JSONValue { ["$ref": .string("#/components/schemas/\(name)")] }

    /// `{"$ref": "#/components/responses/<name>"}`
    static func responseRef(_ name: String) -> JSONValue { ["$ref": .string("#/components/responses/\(name)")] }

    /// `{"$ref": "#/components/parameters/<name>"}`
    static func parameterRef(_ name: String) -> JSONValue { ["$ref": .string("#/components/parameters/\(name)")] }

    // MARK: Schemas

    static func string(minLength: Int? = nil, maxLength: Int? = nil, format: String? = nil, pattern: String? = nil,
                       enum values: [String]? = nil, default defaultValue: String? = nil,
                       description: String? = nil) -> JSONValue {
        schema("string", [
            ("minLength", minLength.map(int)), ("maxLength", maxLength.map(int)), ("format", format.map(JSONValue.string)),
            ("pattern", pattern.map(JSONValue.string)), ("enum", values.map { .array($0.map(JSONValue.string)) }),
            ("default", defaultValue.map(JSONValue.string)), ("description", description.map(JSONValue.string)),
        ])
    }

    /// A string restricted to the raw values of `E`, in declaration order.
    static func enumeration<E: RawRepresentable & CaseIterable>(_ type: E.Type, default defaultValue: E? = nil,
                                                                description: String? = nil) -> JSONValue where E.RawValue == String {
        string(enum: E.allCases.map(\.rawValue), default: defaultValue?.rawValue, description: description)
    }

    static func integer(minimum: Int64? = nil, maximum: Int64? = nil, default defaultValue: Int64? = nil,
                        description: String? = nil) -> JSONValue {
        schema("integer", [
            ("minimum", minimum.map { .number(JSONNumber($0)) }), ("maximum", maximum.map { .number(JSONNumber($0)) }),
            ("default", defaultValue.map { .number(JSONNumber($0)) }), ("description", description.map(JSONValue.string)),
        ])
    }

    static func number(minimum: JSONValue? = nil, maximum: JSONValue? = nil, multipleOf: JSONValue? = nil,
                       description: String? = nil) -> JSONValue {
        schema("number", [
            ("minimum", minimum), ("maximum", maximum), ("multipleOf", multipleOf),
            ("description", description.map(JSONValue.string)),
        ])
    }

    /// An amount of credits: a JSON number, exact, with at most three decimal places.
    static func credits(minimum: JSONValue? = nil, maximum: JSONValue? = nil, _ what: String = "Credits") -> JSONValue {
        number(minimum: minimum, maximum: maximum, multipleOf: 0.001,
               description: "\(what). Exact decimal with at most 3 decimal places (never rounded through floating point).")
    }

    static func boolean(default defaultValue: Bool? = nil, description: String? = nil) -> JSONValue {
        schema("boolean", [("default", defaultValue.map(JSONValue.bool)), ("description", description.map(JSONValue.string))])
    }

    static func array(_ items: JSONValue, minItems: Int? = nil, maxItems: Int? = nil, description: String? = nil) -> JSONValue {
        schema("array", [
            ("items", items), ("minItems", minItems.map(int)), ("maxItems", maxItems.map(int)),
            ("description", description.map(JSONValue.string)),
        ])
    }

    /// An object with the given members, in order. Unknown members are ignored by the server, so
    /// schemas stay open (no `additionalProperties: false`).
    static func object(_ properties: KeyValuePairs<String, JSONValue>, required: OpenAPIRequired = .all,
                       description: String? = nil) -> JSONValue {
        let names: [String]
        switch required {
        case .all: names = properties.map(\.key)
        case .some(let list): names = list
        }
        return schema("object", [
            ("description", description.map(JSONValue.string)),
            ("properties", .object(JSONObject(properties.map { ($0.key, $0.value) }))),
            ("required", names.isEmpty ? nil : .array(names.map(JSONValue.string))),
        ])
    }

    /// Any JSON object, members unconstrained.
    static func anyObject(description: String? = nil) -> JSONValue {
        schema("object", [("description", description.map(JSONValue.string))])
    }

    static var uuid: JSONValue { string(format: "uuid") }
    static var dateTime: JSONValue { string(format: "date-time", description: "ISO 8601 in UTC") }

    /// The schema, also allowing `null`: a type array (and `null` in an `enum`) for a typed
    /// schema, `anyOf` for a `$ref`.
    static func nullable(_ schema: JSONValue) -> JSONValue {
        guard var object = schema.objectValue else { return schema }
        if let type = object["type"]?.stringValue {
            object["type"] = [.string(type), "null"]
            if case .array(let values)? = object["enum"] { object["enum"] = .array(values + [.null]) }
            return .object(object)
        }
        return ["anyOf": [schema, ["type": "null"]]]
    }

    /// The schema with a description (beside a `$ref` too, as OpenAPI 3.1 allows).
    static func described(_ schema: JSONValue, _ text: String) -> JSONValue {
        guard var object = schema.objectValue else { return schema }
        object["description"] = .string(text)
        return .object(object)
    }

    // MARK: Parameters

    static func pathParam(_ name: String, _ description: String, schema: JSONValue = uuid) -> JSONValue {
        ["name": .string(name), "in": "path", "required": true, "description": .string(description), "schema": schema]
    }

    /// An optional query parameter; arrays are repeated names (`?tags=a&tags=b`).
    static func queryParam(_ name: String, _ schema: JSONValue, _ description: String) -> JSONValue {
        var parameter: JSONObject = [
            "name": .string(name), "in": "query", "required": false, "description": .string(description), "schema": schema,
        ]
        if schema["type"] == "array" {
            parameter["style"] = "form"
            parameter["explode"] = true
        }
        return .object(parameter)
    }

    // MARK: Responses

    /// The headers every response carries.
    static var standardHeaders: JSONValue { ["X-Request-Id": ["$ref": "#/components/headers/X-Request-Id"]] }

    static func json(_ status: Int, _ description: String, _ schema: JSONValue, headers: JSONObject = [:]) -> OpenAPIReply {
        OpenAPIReply(status: status, value: response(description, content: ["application/json": ["schema": schema]], headers: headers))
    }

    static func text(_ status: Int, _ description: String, mediaType: String) -> OpenAPIReply {
        OpenAPIReply(status: status, value: response(description, content: [mediaType: ["schema": ["type": "string"]]]))
    }

    static func noContent(_ description: String) -> OpenAPIReply {
        OpenAPIReply(status: 204, value: response(description, content: nil))
    }

    /// A shared response of `components/responses`.
    static func shared(_ status: Int, _ name: String) -> OpenAPIReply { OpenAPIReply(status: status, value: responseRef(name)) }

    static var badRequest: OpenAPIReply { shared(400, "BadRequest") }
    static var unauthorized: OpenAPIReply { shared(401, "Unauthorized") }
    static var forbidden: OpenAPIReply { shared(403, "Forbidden") }
    static var notFound: OpenAPIReply { shared(404, "NotFound") }
    static var contentTooLarge: OpenAPIReply { shared(413, "ContentTooLarge") }
    static var unsupportedMediaType: OpenAPIReply { shared(415, "UnsupportedMediaType") }
    static var validationFailed: OpenAPIReply { shared(422, "ValidationFailed") }
    static var tooManyRequests: OpenAPIReply { shared(429, "TooManyRequests") }

    /// A Response Object with the standard headers plus `headers`.
    static func response(_ description: String, content: JSONValue?, headers: JSONObject = [:]) -> JSONValue {
        var all = standardHeaders.objectValue ?? [:]
        for (name, header) in headers { all[name] = header }
        var object: JSONObject = ["description": .string(description), "headers": .object(all)]
        if let content { object["content"] = content }
        return .object(object)
    }

    // MARK: Operations

    /// One operation. Responses every such handler can produce are added here rather than at
    /// each call: a JSON request body brings 413 (over the size cap) and 422 (not JSON, or
    /// invalid), a required token brings 401, a query parameter brings 422.
    static func op(_ method: HTTPRequest.Method, _ path: String, id: String, tag: String, summary: String,
                   description: String? = nil, auth: OpenAPIAuth = .none, parameters: [JSONValue] = [],
                   body: JSONValue? = nil, bodyMediaType: String = "application/json",
                   responses: [OpenAPIReply]) -> OpenAPIOperation {
        var replies = responses
        if auth == .bearer { replies.append(unauthorized) }
        if body != nil { replies += [contentTooLarge, validationFailed] }
        // Shared parameters (`$ref`) are all query parameters; query values are validated.
        if parameters.contains(where: { $0["in"] != "path" }) { replies.append(validationFailed) }
        var byStatus: [Int: JSONValue] = [:]
        for reply in replies where byStatus[reply.status] == nil { byStatus[reply.status] = reply.value }

        var operation: JSONObject = ["operationId": .string(id), "tags": [.string(tag)], "summary": .string(summary)]
        if let description { operation["description"] = .string(description) }
        switch auth {
        case .none: break
        case .bearer: operation["security"] = [["bearerAuth": []]]
        case .optionalBearer: operation["security"] = [[:], ["bearerAuth": []]]
        }
        if !parameters.isEmpty { operation["parameters"] = .array(parameters) }
        if let body {
            let media: JSONValue = ["schema": body]
            operation["requestBody"] = ["required": true, "content": .object(JSONObject([(bodyMediaType, media)]))]
        }
        operation["responses"] = .object(JSONObject(byStatus.keys.sorted().map { (String($0), byStatus[$0]!) }))
        return OpenAPIOperation(method: method, path: path, value: .object(operation))
    }

    // MARK: Helpers

    private static func int(_ value: Int) -> JSONValue { .number(JSONNumber(value)) }

    /// `{"type": type, ...}` with the nil keywords left out.
    private static func schema(_ type: String, _ keywords: [(String, JSONValue?)]) -> JSONValue {
        var object: JSONObject = ["type": .string(type)]
        for (key, value) in keywords { if let value { object[key] = value } }
        return .object(object)
    }
}
