import RunnerProtocol
import NIOCore
import Glibc

/// struct ucred: who is on the other end of a Unix socket, as the kernel saw it at connect().
struct PeerCredentials: Sendable, Equatable {
    var pid: Int32
    var uid: UInt32
    var gid: UInt32

    static func of(_ channel: any Channel) -> EventLoopFuture<PeerCredentials> {
        guard let provider = channel as? any SocketOptionProvider else {
            return channel.eventLoop.makeFailedFuture(ProtocolError("no socket options on this channel"))
        }
        return provider.unsafeGetSocketOption(level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
    }
}

/// Which peers may talk to the runner: root, the runner's own uid, and what the operator adds.
struct PeerPolicy: Sendable {
    var uids: Set<UInt32>
    var gids: Set<UInt32>

    func allows(_ peer: PeerCredentials) -> Bool {
        uids.contains(peer.uid) || gids.contains(peer.gid)
    }
}
