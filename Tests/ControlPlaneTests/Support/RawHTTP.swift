import Foundation

/// A bare TCP exchange with the server: for bytes no HTTP client would send.
enum RawHTTP {
    /// Writes `bytes`, half-closes, and returns everything the server sent until it closed
    /// (or 5 s passed). The blocking socket calls run on a Dispatch thread: the server under
    /// test answers on Swift's cooperative pool, which a blocked test thread would starve.
    static func exchange(port: Int, _ bytes: [UInt8]) async throws -> [UInt8] {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try blockingExchange(port: port, bytes) })
            }
        }
    }

    private static func blockingExchange(port: Int, _ bytes: [UInt8]) throws -> [UInt8] {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: errno \(errno)") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw TestFailure("connect: errno \(errno)") }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        // Reads until the server closes or is silent for `wait` ms.
        func drain(wait: Int32) -> Bool {
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            while poll(&descriptor, 1, wait) > 0 {
                descriptor.revents = 0
                let n = recv(fd, &buffer, buffer.count, 0)
                if n <= 0 { return false }
                received.append(contentsOf: buffer[0..<n])
            }
            return true
        }
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }  // the server may close early on garbage; that is an answer too
            offset += n
        }
        shutdown(fd, Int32(SHUT_WR))
        _ = drain(wait: 5_000)
        return received
    }

    static func statusLine(_ response: [UInt8]) -> String {
        String(decoding: response.prefix { $0 != 0x0D && $0 != 0x0A }, as: UTF8.self)
    }
}
