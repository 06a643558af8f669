// FastAPI / pydantic v2 style validation errors: every problem in a request, each with where it is
// (`loc`), a message and a machine-readable type. Served as 422 `{"detail": [issue.json, ...]}`.

/// One step of an issue's location: an object key (serialized as a JSON string) or an array index
/// (serialized as a JSON number).
public enum LocItem: Sendable, Equatable, Hashable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    case key(String)
    case index(Int)

    public init(stringLiteral value: String) { self = .key(value) }
    public init(integerLiteral value: Int) { self = .index(value) }

    public var json: JSONValue {
        switch self {
        case .key(let k): .string(k)
        case .index(let i): .number(JSONNumber(Int64(i)))
        }
    }
}

public struct ValidationIssue: Sendable, Equatable {
    public var loc: [LocItem]
    public var msg: String
    public var type: String

    public init(loc: [LocItem], msg: String, type: String) {
        self.loc = loc
        self.msg = msg
        self.type = type
    }

    /// `{"loc": [...], "msg": "...", "type": "..."}`
    public var json: JSONValue {
        .object(JSONObject([("loc", .array(loc.map(\.json))), ("msg", .string(msg)), ("type", .string(type))]))
    }
}

/// Thrown when a request has one or more validation issues.
public struct ValidationFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var issues: [ValidationIssue]

    public init(issues: [ValidationIssue]) { self.issues = issues }
    public init(_ issue: ValidationIssue) { self.issues = [issue] }

    /// The 422 body: `{"detail": [issue, ...]}`.
    public var json: JSONValue { .object(JSONObject([("detail", .array(issues.map(\.json)))])) }

    public var description: String {
        issues.map { issue in
            let path = issue.loc.map { item -> String in
                switch item {
                case .key(let k): k
                case .index(let i): String(i)
                }
            }.joined(separator: ".")
            return "\(path): \(issue.msg) [\(issue.type)]"
        }.joined(separator: "; ")
    }
}
