import CSandbox
import Glibc

/// Names the syscall of a seccomp kill from the kernel's audit record
/// ("audit: type=1326 … uid=N … sig=31 … syscall=101 …"), which the kernel writes to the
/// kernel log when no audit daemon is listening. Best effort: the record can be rate-limited
/// or absent, and then the violation is reported without a name.
enum KernelAudit {
    static func seccompSyscall(uid: UInt32, since startMicroseconds: Int64, waitMicroseconds: Int64 = 100_000) -> String? {
        let giveUp = monotonicMicroseconds() + waitMicroseconds
        repeat {
            if let number = scan(uid: uid, since: startMicroseconds) {
                return sbx_syscall_name(number).map { String(cString: $0) } ?? "syscall \(number)"
            }
            usleep(5_000)  // kauditd prints asynchronously
        } while monotonicMicroseconds() < giveUp
        return nil
    }

    private static func scan(uid: UInt32, since startMicroseconds: Int64) -> Int32? {
        let fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var found: Int32?
        var buffer = [UInt8](repeating: 0, count: 8_192)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EPIPE { continue }  // overwritten records: skip ahead
            if count <= 0 { break }
            let record = String(decoding: buffer[..<count], as: UTF8.self)
            if let number = parse(record, uid: uid, since: startMicroseconds) { found = number }
        }
        return found
    }

    /// "6,1234,56789012,-;audit: type=1326 audit(…): auid=… uid=700001 … syscall=101 …"
    static func parse(_ record: String, uid: UInt32, since startMicroseconds: Int64) -> Int32? {
        guard record.contains("type=1326"), let semicolon = record.firstIndex(of: ";") else { return nil }
        let header = record[..<semicolon].split(separator: ",")
        // The kernel log's clock is the monotonic clock; allow for a little skew.
        guard header.count >= 3, let timestamp = Int64(header[2]), timestamp + 5_000 >= startMicroseconds else { return nil }
        var fields: [Substring: Substring] = [:]
        for pair in record[semicolon...].split(separator: " ") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { fields[parts[0]] = parts[1] }
        }
        guard fields["uid"] == Substring(String(uid)), let syscall = fields["syscall"].flatMap({ Int32($0) }) else { return nil }
        return syscall
    }
}
