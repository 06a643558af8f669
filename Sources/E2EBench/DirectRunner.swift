import BenchSupport
import RunnerProtocol

/// The baseline: the agent's bundle sent straight to the runner over the runner protocol, one
/// persistent connection per client, as the control plane's dispatcher does.
struct DirectRunner: Sendable {
    let socket: String
    let bundle: TrivialAgent.Bundle

    func drive(client: Int, runs: Int, warmup: Int, into latencies: LatencyCollector) async throws {
        let connection = try await RunnerClient.connect(socketPath: socket)
        try await connection.withSession(client: "e2e-bench-\(client)") { session in
            var sentBundle = false
            for index in 0..<(runs + warmup) {
                let runID = "direct-\(client)-\(index)"
                let start = now()
                let reference = BundleReference(sha256: bundle.sha256, data: sentBundle ? nil : bundle.archive)
                try await session.send(.execute(ExecuteRequest(
                    runID: runID, profile: "default", arguments: ["/bin/sh", "main.sh"], stdin: Array("{}".utf8), bundle: reference)))
                sentBundle = true
                finished: while let reply = try await session.next() {
                    switch reply {
                    case .finished(runID, let record, _):
                        guard record.outcome == "completed" else { throw BenchError(message: "direct run ended as \(record.outcome)") }
                        break finished
                    case .rejected(runID, let reason, let detail):
                        throw BenchError(message: "direct run rejected \(reason): \(detail)")
                    default:
                        continue
                    }
                }
                if index >= warmup { latencies.add(now() - start) }
            }
        }
    }
}
