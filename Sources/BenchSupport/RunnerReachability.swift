import RunnerProtocol

/// True when a runner answers a hello on `socket`.
public func reachable(_ socket: String) async -> Bool {
    do {
        let client = try await RunnerClient.connect(socketPath: socket)
        try await client.withSession(client: "probe") { _ in }
        return true
    } catch {
        return false
    }
}
