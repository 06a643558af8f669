import NIOCore
import NIOPosix

/// A client of the runner protocol over a Unix socket: `submit`, the benchmark and (later)
/// the control plane's dispatcher use it.
public struct RunnerClient: Sendable {
    let channel: NIOAsyncChannel<[UInt8], [UInt8]>

    public static func connect(socketPath: String) async throws -> RunnerClient {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(unixDomainSocketPath: socketPath) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(FrameEncoder()))
                    return try NIOAsyncChannel<[UInt8], [UInt8]>(wrappingChannelSynchronously: channel)
                }
            }
        return RunnerClient(channel: channel)
    }

    /// Says hello, then runs `body` with the open session; the connection closes after it.
    public func withSession<Result: Sendable>(
        client: String, _ body: (inout RunnerSession) async throws -> Result
    ) async throws -> Result {
        try await channel.executeThenClose { inbound, outbound in
            var session = RunnerSession(replies: inbound.makeAsyncIterator(), outbound: outbound)
            try await session.send(.hello(Hello(client: client)))
            guard let welcome = try await session.next() else { throw ProtocolError("the runner closed the connection") }
            guard case .welcome = welcome else {
                if case .error(let message) = welcome { throw ProtocolError("runner: \(message)") }
                throw ProtocolError("expected welcome, got \(welcome)")
            }
            return try await body(&session)
        }
    }

    /// Says hello, sends `messages`, and hands every reply to `onMessage` until it returns false.
    public func exchange(
        client: String, _ messages: [ClientMessage],
        onMessage: (RunnerMessage) async throws -> Bool
    ) async throws {
        try await withSession(client: client) { session in
            for message in messages { try await session.send(message) }
            while let reply = try await session.next() {
                if try await !onMessage(reply) { return }
            }
            throw ProtocolError("the runner closed the connection")
        }
    }
}

/// One open conversation with a runner, after the hello.
public struct RunnerSession {
    var replies: NIOAsyncChannelInboundStream<[UInt8]>.AsyncIterator
    let outbound: NIOAsyncChannelOutboundWriter<[UInt8]>

    public func send(_ message: ClientMessage) async throws {
        try await sender.send(message)
    }

    /// A handle other tasks can send with while this session's owner reads the replies
    /// (one connection carries many runs, so sending and reading are independent).
    public var sender: RunnerSender { RunnerSender(outbound: outbound) }

    /// The next message from the runner, or nil when it closed the connection.
    public mutating func next() async throws -> RunnerMessage? {
        guard let frame = try await replies.next() else { return nil }
        return try MessageJSON.decode(RunnerMessage.self, from: frame)
    }
}

/// Sends on an open session from any task.
public struct RunnerSender: Sendable {
    let outbound: NIOAsyncChannelOutboundWriter<[UInt8]>

    public func send(_ message: ClientMessage) async throws {
        try await outbound.write(MessageJSON.encode(message))
    }
}
