import Hummingbird

/// Serves the OpenAPI document at `/api/v1/openapi.json`.
struct OpenAPIRoute {
    static let endpoint = Endpoint(method: .get, path: "/api/v1/openapi.json")

    func register(in table: RouteTable) {
        let document = OpenAPIDocument.document().serialized()
        table.add(Self.endpoint.method, Self.endpoint.path) { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: .init(bytes: document)))
        }
    }
}
