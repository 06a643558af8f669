import BenchSupport
import Foundation
import HTTPTypes
import JSONCore
import HummingbirdTesting
import NIOCore
import NIOPosix

/// One HTTP client on one keep-alive connection to the control plane.
struct API: Sendable {
    let port: Int

    struct Reply: Sendable {
        let status: HTTPResponse.Status
        let body: [UInt8]
        var json: [String: Any] { ((try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]) ?? [:] }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    func call(_ method: HTTPRequest.Method, _ path: String, json: [String: Any]? = nil, raw: [UInt8]? = nil,
              token: String? = nil, headers: HTTPFields = [:]) async throws -> Reply {
        try await TestClient.withClient(host: "127.0.0.1", port: port) { client in
            try await Self.call(client, method, path, json: json, raw: raw, token: token, headers: headers)
        }
    }

    static func call(_ client: TestClient, _ method: HTTPRequest.Method, _ path: String, json: [String: Any]? = nil,
                     raw: [UInt8]? = nil, token: String? = nil, headers: HTTPFields = [:]) async throws -> Reply {
        var fields = headers
        if let token { fields[.authorization] = "Bearer \(token)" }
        var body: ByteBuffer?
        if let json {
            body = ByteBuffer(bytes: Array(try JSONSerialization.data(withJSONObject: json)))
            fields[.contentType] = "application/json"
        } else if let raw {
            body = ByteBuffer(bytes: raw)
        }
        let response = try await client.execute(TestClient.Request(path, method: method, headers: fields, body: body))
        return Reply(status: response.status, body: response.body.map { Array($0.readableBytesView) } ?? [])
    }

    /// Submit, then follow the run's event stream to its end: the time until the client knows
    /// the run completed, as a client of the API sees it. On a thread of its own with a plain
    /// blocking connection (see `PlainHTTPConnection`).
    func drive(_ seeded: Seed.Result, runs: Int, warmup: Int, into latencies: LatencyCollector) async throws {
        let port = self.port
        try await onThread {
            let http = try PlainHTTPConnection(port: port)
            for index in 0..<(runs + warmup) {
                let start = now()
                let submitted = try http.request("POST", "/api/v1/agents/\(seeded.agentID)/execute", token: seeded.token,
                                                 json: "{\"inputs\":{\"n\":\(index)}}")
                guard submitted.status == 201, let id = (try? JSONParser.parse(submitted.body))?["id"]?.stringValue else {
                    throw BenchError(message: "submit: \(submitted.status) \(submitted.text)")
                }
                let stream = try http.request("GET", "/api/v1/executions/\(id)/logs", token: seeded.token, accept: "text/event-stream")
                let text = stream.text
                guard text.contains("event: end"), text.contains("\"status\":\"completed\"") else {
                    throw BenchError(message: "run \(id) did not complete: \(text.suffix(600))")
                }
                if index >= warmup { latencies.add(now() - start) }
            }
        }
    }
}

/// Runs blocking `body` on a new thread, off the cooperative pool.
func onThread(_ body: @escaping @Sendable () throws -> Void) async throws {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

extension TestClient {
    /// A connected client for `body`, shut down after it.
    static func withClient<R: Sendable>(host: String, port: Int, _ body: (TestClient) async throws -> R) async throws -> R {
        let client = TestClient(host: host, port: port, configuration: .init(timeout: .seconds(60)), eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup.singleton))
        client.connect()
        do {
            let result = try await body(client)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}
