import Foundation

/// One runner the control plane dispatches to, as `AGENTGRID_RUNNERS` names it. Only Unix
/// sockets exist today; TCP + mutual TLS is the transport seam's next kind.
struct RunnerEndpoint: Sendable, Hashable, CustomStringConvertible {
    let socketPath: String

    /// How executions record where they ran: the endpoint as configured.
    var name: String { "unix://" + socketPath }
    var description: String { name }

    /// `unix:///run/agentgrid/runner.sock,unix:///…`; an entry of another kind is an error that says why.
    static func parseList(_ text: String) throws -> [RunnerEndpoint] {
        var endpoints: [RunnerEndpoint] = []
        for entry in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !entry.isEmpty {
            guard entry.hasPrefix("unix://") else {
                throw ConfigError.invalid("AGENTGRID_RUNNERS", "entry '\(entry)': only unix:///path/to/runner.sock runners are supported so far")
            }
            let path = String(entry.dropFirst("unix://".count))
            guard path.hasPrefix("/"), path.utf8.count < 108 else {
                throw ConfigError.invalid("AGENTGRID_RUNNERS", "entry '\(entry)': the socket path must be absolute and under 108 bytes")
            }
            let endpoint = RunnerEndpoint(socketPath: path)
            if !endpoints.contains(endpoint) { endpoints.append(endpoint) }
        }
        guard !endpoints.isEmpty else { throw ConfigError.invalid("AGENTGRID_RUNNERS", "names no runner") }
        return endpoints
    }
}
