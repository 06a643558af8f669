import BenchSupport
import Glibc

/// The load generator's HTTP/1.1: one blocking keep-alive socket, the request written in one
/// call, the response read with `Content-Length` or chunked framing. It shares two cores with
/// the system it measures, so it does as little as a client can (wrk's reason for being C);
/// the benchmark prints its CPU per run beside the control plane's.
final class PlainHTTPConnection {
    private let fd: Int32
    private var buffer: [UInt8] = []
    private var start = 0

    struct Response {
        let status: Int
        let body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BenchError(message: "socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let code = errno
            close(fd)
            throw BenchError(message: "connect to port \(port): errno \(code)")
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close(fd) }

    func request(_ method: String, _ path: String, token: String, accept: String? = nil, json: String? = nil) throws -> Response {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n"
        if let accept { head += "Accept: \(accept)\r\n" }
        if let json { head += "Content-Type: application/json\r\nContent-Length: \(json.utf8.count)\r\n" }
        try send(Array((head + "\r\n" + (json ?? "")).utf8))
        return try readResponse()
    }

    private func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let written = bytes[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard written > 0 else { throw BenchError(message: "write: errno \(errno)") }
            sent += written
        }
    }

    private func readResponse() throws -> Response {
        let head = try readLine()
        let statusLine = head.split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw BenchError(message: "bad status line: \(head)") }
        var length: Int?
        var chunked = false
        while true {
            let line = try readLine()
            if line.isEmpty { break }
            let lower = line.lowercased()
            if lower.hasPrefix("content-length:") { length = Int(lower.dropFirst(15).trimmingBlanks()) }
            if lower.hasPrefix("transfer-encoding:") && lower.contains("chunked") { chunked = true }
        }
        if chunked {
            var body: [UInt8] = []
            while true {
                guard let size = Int(try readLine().split(separator: ";").first?.trimmingBlanks() ?? "", radix: 16) else {
                    throw BenchError(message: "bad chunk size")
                }
                if size == 0 {
                    _ = try readLine()
                    return Response(status: status, body: body)
                }
                body += try read(size)
                _ = try readLine()
            }
        }
        return Response(status: status, body: try read(length ?? 0))
    }

    private func readLine() throws -> String {
        while true {
            if let end = buffer[start...].firstIndex(of: 0x0A) {
                var last = end
                if last > start && buffer[last - 1] == 0x0D { last -= 1 }
                let line = String(decoding: buffer[start..<last], as: UTF8.self)
                start = end + 1
                return line
            }
            try fill()
        }
    }

    private func read(_ count: Int) throws -> [UInt8] {
        while buffer.count - start < count { try fill() }
        defer { start += count }
        return Array(buffer[start..<start + count])
    }

    private func fill() throws {
        if start > 0 {
            buffer.removeFirst(start)
            start = 0
        }
        var chunk = [UInt8](repeating: 0, count: 16_384)
        let got = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard got > 0 else { throw BenchError(message: got == 0 ? "the server closed the connection" : "read: errno \(errno)") }
        buffer += chunk[0..<got]
    }
}

private extension StringProtocol {
    func trimmingBlanks() -> String {
        String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}
