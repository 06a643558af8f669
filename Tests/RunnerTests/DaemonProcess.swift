import Foundation
import Glibc
import Synchronization
import Testing

/// A real `agentgrid-runner serve` in the background, on a socket and state directory of its
/// own and a cgroup name of its own, stopped (SIGTERM, then SIGKILL) when the test is done.
final class DaemonProcess: @unchecked Sendable {
    private static let counter = Mutex(0)

    let directory: TemporaryDirectory
    let socket: String
    let name: String
    let logPath: String
    let arguments: [String]
    private(set) var process: Process

    /// A started daemon, ready for connections.
    static func start(
        slots: Int = 2, queue: Int = 8, grace: Double = 5, profiles: String = RunnerProcess.profilesDirectory,
        extra: [String] = []
    ) async throws -> DaemonProcess {
        let daemon = try DaemonProcess(slots: slots, queue: queue, grace: grace, profiles: profiles, extra: extra)
        try await daemon.start()
        return daemon
    }

    private init(slots: Int, queue: Int, grace: Double, profiles: String, extra: [String]) throws {
        directory = try TemporaryDirectory(prefix: "runner-daemon")
        socket = directory.path + "/runner.sock"
        let number = Self.counter.withLock { value -> Int in value += 1; return value }
        name = "daemon-test-\(getpid())-\(number)"
        logPath = directory.path + "/serve.log"
        arguments = ["serve", "--socket", socket, "--slots", "\(slots)", "--queue", "\(queue)",
                     "--state-dir", directory.path + "/state", "--profiles", profiles, "--name", name,
                     "--grace", "\(grace)"] + extra
        process = Process()
    }

    /// Waits (up to 20 s) until the daemon's own status report shows `busy` slots taken and
    /// `queued` runs waiting: tests order their steps by what the daemon knows, not by sleeping,
    /// because when a separate submit process gets there depends on the host's load.
    @discardableResult
    func waitForStatus(busy: Int, queued: Int = 0) async -> Bool {
        let socket = self.socket
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            let report = await onOwnThread { () -> (Int, Int)? in
                guard let connection = try? RawRunnerConnection(socket: socket), connection.hello() != nil else { return nil }
                connection.send(json: #"{"type":"status"}"#)
                guard let status = connection.receive(until: "status"),
                      let slotsBusy = status["slots_busy"] as? Int, let depth = status["queue_depth"] as? Int else { return nil }
                return (slotsBusy, depth)
            }
            if let report, report.0 == busy, report.1 == queued { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// Starts (or restarts) the daemon and waits until its socket accepts connections.
    func start() async throws {
        if !FileManager.default.fileExists(atPath: logPath) {
            guard FileManager.default.createFile(atPath: logPath, contents: nil) else { throw DaemonError(message: "cannot create \(logPath)") }
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        process = Process()
        process.executableURL = URL(fileURLWithPath: RunnerProcess.binary)
        process.arguments = arguments
        process.environment = RunnerProcess.baseEnvironment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        try process.run()
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if (try? RawRunnerConnection(socket: socket)) != nil { return }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw DaemonError(message: "the daemon did not start: \(self.log)")
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits for the daemon to exit and returns its status.
    func waitForExit(timeoutSeconds: Double = 20) async -> Int32? {
        let deadline = ContinuousClock.now + .milliseconds(Int64(timeoutSeconds * 1_000))
        while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        return process.isRunning ? nil : process.terminationStatus
    }

    func stop() async {
        guard process.isRunning else { return }
        signal(SIGTERM)
        if await waitForExit(timeoutSeconds: 10) == nil { signal(SIGKILL) }
    }

    /// `agentgrid-runner submit --socket <ours> ARGS`.
    func submit(_ arguments: [String], timeoutSeconds: Double = 30) async throws -> RunnerProcess.Output {
        try await RunnerProcess.launch(["submit", "--socket", socket] + arguments, timeoutSeconds: timeoutSeconds)
    }

    /// Host pids in this daemon's slot cgroups: the sandboxes alive right now.
    var liveSandboxProcesses: [Int32] {
        let root = "/sys/fs/cgroup/pids/agentgrid/\(name)"
        let slots = (try? FileManager.default.contentsOfDirectory(atPath: root))?.filter { $0.hasPrefix("slot") } ?? []
        return slots.flatMap { slot -> [Int32] in
            let procs = (try? String(contentsOfFile: "\(root)/\(slot)/cgroup.procs", encoding: .utf8)) ?? ""
            return procs.split(separator: "\n").compactMap { Int32($0) }
        }
    }

    /// Slot cgroups that have at least one process: sandboxes running right now.
    var busySlotCgroups: Int {
        let root = "/sys/fs/cgroup/pids/agentgrid/\(name)"
        let slots = (try? FileManager.default.contentsOfDirectory(atPath: root))?.filter { $0.hasPrefix("slot") } ?? []
        return slots.filter { slot in
            let current = (try? String(contentsOfFile: "\(root)/\(slot)/pids.current", encoding: .utf8)) ?? "0"
            return (Int(current.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) > 0
        }.count
    }
}

struct DaemonError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// The runner protocol spoken by hand over a blocking socket: frames the official client
/// would never send (truncated, oversized, garbage) are the point.
final class RawRunnerConnection {
    let fd: Int32

    init(socket path: String, receiveTimeoutSeconds: Int = 10) throws {
        fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[index] = byte }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        // No close here: the object is fully initialized, so throwing runs deinit, which closes
        // it. Closing twice closed a descriptor number another thread had just been given
        // (the EBADF, and NIO's precondition crash, seen in CI while daemons were starting).
        guard connected == 0 else { throw DaemonError(message: "connect \(path): errno \(errno)") }
        var timeout = timeval(tv_sec: receiveTimeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func sendRaw(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written <= 0 { return }
            offset += written
        }
    }

    func send(json: String) {
        let payload = Array(json.utf8)
        let length = UInt32(payload.count)
        sendRaw([UInt8(length >> 24), UInt8(length >> 16 & 255), UInt8(length >> 8 & 255), UInt8(length & 255)] + payload)
    }

    /// The next frame as a JSON object, or nil when the connection closed.
    func receive() -> [String: Any]? {
        guard let header = read(count: 4) else { return nil }
        let length = Int(header[0]) << 24 | Int(header[1]) << 16 | Int(header[2]) << 8 | Int(header[3])
        guard let payload = read(count: length) else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(payload))) as? [String: Any]
    }

    /// Frames until one of `type` (or the end): replies may interleave with logs.
    func receive(until type: String) -> [String: Any]? {
        while let message = receive() {
            if message["type"] as? String == type { return message }
        }
        return nil
    }

    func hello() -> [String: Any]? {
        send(json: #"{"type":"hello","versions":[1],"client":"tests"}"#)
        return receive()
    }

    private func read(count: Int) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let got = buffer[offset...].withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if got <= 0 { return nil }
            offset += got
        }
        return buffer
    }
}

/// Blocking work (the raw socket client) off the Swift concurrency pool.
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: body()) }.start()
    }
}

/// GET http://127.0.0.1:PORT/PATH with a plain socket; the whole response as text.
func httpGet(port: UInt16, path: String) -> String? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { return nil }
    var timeout = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
    _ = request.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    var response: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 16_384)
    while true {
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count <= 0 { break }
        response += buffer[..<count]
    }
    return String(decoding: response, as: UTF8.self)
}
