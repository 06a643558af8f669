import NIOCore
import NIOPosix
import RunnerProtocol

/// A client of the runner protocol over a Unix socket: `submit` and the tests use it.
struct RunnerClient {
    let channel: NIOAsyncChannel<[UInt8], [UInt8]>

    static func connect(socketPath: String) async throws -> RunnerClient {
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

    /// Says hello, sends `messages`, and hands every reply to `onMessage` until it returns false.
    func exchange(
        client: String, _ messages: [ClientMessage],
        onMessage: (RunnerMessage) async throws -> Bool
    ) async throws {
        try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(MessageJSON.encode(ClientMessage.hello(Hello(client: client))))
            var replies = inbound.makeAsyncIterator()
            guard let first = try await replies.next() else { throw ProtocolError("the runner closed the connection") }
            let welcome = try MessageJSON.decode(RunnerMessage.self, from: first)
            guard case .welcome = welcome else {
                if case .error(let message) = welcome { throw ProtocolError("runner: \(message)") }
                throw ProtocolError("expected welcome, got \(welcome)")
            }
            for message in messages { try await outbound.write(MessageJSON.encode(message)) }
            while let frame = try await replies.next() {
                if try await !onMessage(try MessageJSON.decode(RunnerMessage.self, from: frame)) { return }
            }
            throw ProtocolError("the runner closed the connection")
        }
    }
}
