import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
@testable import ControlPlane

/// The per-route request metrics on `/metrics`: a body held in memory is counted when the
/// handler returns it, a streamed one is timed to its end, an error is counted as one. Each
/// test uses routes of its own, since the metrics registry is the process's.
@Suite struct RequestMetricsTests {
    /// The value of the first sample line of `name` whose labels contain every one of `labels`.
    private static func sample(_ text: String, _ name: String, _ labels: [String]) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(name + "{") {
            guard labels.allSatisfy({ line.contains($0) }), let value = line.split(separator: " ").last else { continue }
            return Double(value)
        }
        return nil
    }

    @Test func heldAndStreamedBodiesAndErrorsAreCountedAndTimed() async throws {
        let registry = ControlPlaneMetrics.registry
        let tag = String(RandomID.uuid().prefix(8))
        let router = Router(context: BasicRequestContext.self)
        router.addMiddleware { RequestMetricsMiddleware() }
        router.get(RouterPath("/held-\(tag)")) { _, _ in Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "{}"))) }
        router.get(RouterPath("/streamed-\(tag)")) { _, _ in
            Response(status: .ok, body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: "a"))
                try await Task.sleep(for: .milliseconds(100))
                try await writer.write(ByteBuffer(string: "b"))
                try await writer.finish(nil)
            })
        }
        router.get(RouterPath("/fails-\(tag)")) { _, _ -> Response in throw HTTPError(.conflict) }
        try await Application(router: router).test(.router) { client in
            for _ in 0..<2 { try await client.execute(uri: "/held-\(tag)", method: .get) { #expect($0.status == .ok) } }
            try await client.execute(uri: "/streamed-\(tag)", method: .get) { #expect(String(buffer: $0.body) == "ab") }
            try await client.execute(uri: "/fails-\(tag)", method: .get) { #expect($0.status == .conflict) }
        }
        var bytes: [UInt8] = []
        registry.emit(into: &bytes)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(Self.sample(text, "hb_requests", ["/held-\(tag)", "\"200\""]) == 2, "\(text.split(separator: "\n").filter { $0.contains(tag) })")
        #expect(Self.sample(text, "http_server_request_duration_count", ["/held-\(tag)"]) == 2)
        #expect(Self.sample(text, "hb_requests", ["/streamed-\(tag)", "\"200\""]) == 1)
        // Timed to the end of the stream, not to the handler's return.
        #expect((Self.sample(text, "http_server_request_duration_sum", ["/streamed-\(tag)"]) ?? 0) >= 0.1)
        #expect(Self.sample(text, "hb_requests", ["/fails-\(tag)", "\"409\""]) == 1)
        #expect(Self.sample(text, "hb_request_errors", ["/fails-\(tag)", "\"409\""]) == 1)
    }
}
