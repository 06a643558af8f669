import HTTPTypes
import Hummingbird

/// One operation of the API, named as the OpenAPI document names it (`{agent_id}` style).
struct Endpoint: Hashable, Sendable, CustomStringConvertible {
    let method: HTTPRequest.Method
    let path: String

    var description: String { "\(method.rawValue) \(path)" }
}

/// Registers handlers on the router and remembers every endpoint, so the OpenAPI document can
/// be checked against exactly what the server serves.
final class RouteTable {
    typealias Handler = @Sendable (Request, APIRequestContext) async throws -> Response

    let router: Router<APIRequestContext>
    private(set) var endpoints: [Endpoint] = []

    init(router: Router<APIRequestContext>) {
        self.router = router
    }

    func add(_ method: HTTPRequest.Method, _ path: String, _ handler: @escaping Handler) {
        endpoints.append(Endpoint(method: method, path: path))
        let routerPath = path.split(separator: "/").map { segment in
            segment.hasPrefix("{") && segment.hasSuffix("}") ? ":" + segment.dropFirst().dropLast() : String(segment)
        }.joined(separator: "/")
        router.on(RouterPath(routerPath), method: method, use: handler)
    }
}

extension APIRequestContext {
    /// A path parameter the route declares; absent only if the route table is wrong.
    func parameter(_ name: String) throws -> String {
        guard let value = parameters.get(name) else { throw APIError.notFound("Resource") }
        return value
    }
}
