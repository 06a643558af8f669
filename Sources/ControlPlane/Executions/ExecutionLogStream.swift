import Hummingbird
import NIOCore

/// `GET /executions/{id}/logs` with `Accept: text/event-stream`: the run's stderr and status
/// changes as server-sent events until it ends. Events: `status` (`{"status": …}`), `log`
/// (`{"text": …}`), and a last `end` carrying the finished execution; a comment line now and
/// then keeps idle connections open through proxies.
struct ExecutionLogStream: Sendable {
    /// The run as read after `live` was subscribed to.
    let execution: Execution
    let live: AsyncStream<ExecutionEvent>
    let store: Store
    let events: ExecutionEvents

    func response() -> Response {
        let first = execution, subscription = live, store = self.store, events = self.events
        let id = first.id
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                func event(_ name: String, _ data: JSONValue) -> String {
                    "event: \(name)\ndata: \(data.serializedString())\n\n"
                }
                func send(_ name: String, _ data: JSONValue) async throws {
                    try await writer.write(ByteBuffer(string: event(name, data)))
                }
                var lastStatus: ExecutionStatus?
                // The live log is a prefix of the stored one: at the end, whatever was not streamed is sent.
                var sentBytes = 0
                // Each row is read after the events it is followed by were subscribed to, so nothing
                // between the two is missed (the first one by the route, the rest here).
                var live = subscription.makeAsyncIterator()
                // The route's row serves while the run goes on; a finished run is read with its log.
                var routeRow: Execution? = first.status.isFinished ? nil : first
                while true {
                    let execution: Execution, stored: String?
                    if let row = routeRow {
                        (execution, stored) = (row, nil)
                        routeRow = nil
                    } else {
                        guard let read = try await store.read({ db in try await ExecutionStore.findWithLogs(id: id, in: db) }) else { break }
                        (execution, stored) = read
                    }
                    if execution.status.isFinished {
                        // The last events go out in one write: one flush, one wake-up of the client.
                        var last = ""
                        if execution.status != lastStatus { last += event("status", ["status": .string(execution.status.rawValue)]) }
                        let log = Array((stored ?? "").utf8)
                        if log.count > sentBytes {
                            last += event("log", ["text": .string(String(decoding: log[sentBytes...], as: UTF8.self))])
                        }
                        last += event("end", execution.json)
                        try await writer.write(ByteBuffer(string: last))
                        break
                    }
                    if execution.status != lastStatus {
                        lastStatus = execution.status
                        try await send("status", ["status": .string(execution.status.rawValue)])
                    }
                    // Follow live events until the run ends here, or a heartbeat says to look again.
                    var sawEvent = false
                    following: while let event = await live.next() {
                        sawEvent = true
                        switch event {
                        case .log(let text):
                            sentBytes += text.utf8.count
                            try await send("log", ["text": .string(text)])
                        case .status(let status) where !status.isFinished && status != .pending:
                            if status != lastStatus {
                                lastStatus = status
                                try await send("status", ["status": .string(status.rawValue)])
                            }
                        case .status:
                            break following
                        case .heartbeat:
                            try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                            break following
                        }
                    }
                    // The stream finished (the run went back to the queue): watch it afresh.
                    if !sawEvent { live = events.subscribe(id).makeAsyncIterator() }
                    if Task.isCancelled { break }
                }
                try await writer.finish(nil)
            })
    }
}
