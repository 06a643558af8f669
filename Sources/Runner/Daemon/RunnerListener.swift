import Foundation
import Glibc
import NIOCore
import NIOPosix
import RunnerProtocol

/// A connection a listener accepted: who is on the other end, and a channel of frames.
typealias RunnerConnection = (peer: PeerCredentials, channel: NIOAsyncChannel<[UInt8], [UInt8]>)
typealias RunnerServerChannel = NIOAsyncChannel<RunnerConnection, Never>

/// The transport seam: a listener yields authenticated connections that carry frames; the
/// handlers never see the transport. Today a Unix socket checked with SO_PEERCRED; a TCP +
/// mutual-TLS listener (peer = the client certificate) slots in beside it.
protocol RunnerListener: Sendable {
    /// Where it listens, for logs.
    var address: String { get }
    func bind(onRefused: @escaping @Sendable (String) -> Void) async throws -> RunnerServerChannel
    /// Removes what binding left behind (the socket file).
    func cleanUp()
}

struct UnixSocketListener: RunnerListener {
    let path: String
    let peers: PeerPolicy
    let maximumFrameBytes: Int

    var address: String { path }

    func bind(onRefused: @escaping @Sendable (String) -> Void) async throws -> RunnerServerChannel {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o755])
        let policy = peers
        let maximumFrame = maximumFrameBytes
        // The socket is created owner-only (umask around bind); peers are checked anyway.
        let previousMask = umask(0o177)
        defer { umask(previousMask) }
        return try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true) { channel in
                PeerCredentials.of(channel).flatMapThrowing { peer in
                    guard policy.allows(peer) else {
                        onRefused("refused a connection from pid \(peer.pid) uid \(peer.uid) gid \(peer.gid): not an allowed peer")
                        channel.close(promise: nil)
                        throw ProtocolError("peer not allowed")
                    }
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(maximumFrameBytes: maximumFrame)))
                    try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(FrameEncoder()))
                    return (peer, try NIOAsyncChannel<[UInt8], [UInt8]>(wrappingChannelSynchronously: channel))
                }
            }
    }

    func cleanUp() {
        unlink(path)
    }
}
