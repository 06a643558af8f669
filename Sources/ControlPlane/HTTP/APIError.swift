import HTTPTypes
import Hummingbird

/// An error a client caused or must hear about, in the API's shape: `{"detail": …}`.
struct APIError: Error, Sendable {
    var status: HTTPResponse.Status
    var detail: JSONValue
    var headers: HTTPFields = [:]

    init(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.detail = .string(message)
        self.headers = headers
    }

    init(validation failure: ValidationFailure) {
        status = .unprocessableContent
        detail = .array(failure.issues.map(\.json))
    }

    static func notFound(_ what: String) -> APIError { APIError(.notFound, "\(what) not found") }
    static func forbidden(_ message: String) -> APIError { APIError(.forbidden, message) }
    static func badRequest(_ message: String) -> APIError { APIError(.badRequest, message) }

    static func unauthorized(_ message: String = "Could not validate credentials") -> APIError {
        APIError(.unauthorized, message, headers: [.wwwAuthenticate: "Bearer"])
    }

    /// A 422 with one issue, for checks that happen after the body validator (e.g. a bad id).
    static func invalid(_ loc: [LocItem], _ msg: String, type: String = "value_error") -> APIError {
        APIError(validation: ValidationFailure(issues: [ValidationIssue(loc: loc, msg: msg, type: type)]))
    }

    func response() -> Response {
        var response = JSONResponse.make(status, ["detail": detail])
        response.headers.append(contentsOf: headers)
        return response
    }
}
