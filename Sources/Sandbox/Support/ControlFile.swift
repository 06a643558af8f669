import Glibc

/// A kernel control file (cgroupfs, procfs) kept open for repeated reads and writes at
/// offset 0. Opening once per slot instead of once per run keeps path lookups off the
/// spawn path.
final class ControlFile: @unchecked Sendable {
    let path: String
    private(set) var descriptor: Int32

    init(path: String, writable: Bool, readable: Bool = true) throws(SystemError) {
        let mode: Int32 = writable ? (readable ? O_RDWR : O_WRONLY) : O_RDONLY
        let fd = open(path, mode | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("open", path: path) }
        self.path = path
        self.descriptor = fd
    }

    deinit { close() }

    /// Closes now rather than whenever the last reference goes (engine shutdown).
    func close() {
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
    }

    func write(_ text: String) throws(SystemError) {
        var bytes = Array(text.utf8)
        let count = bytes.count
        let written = bytes.withUnsafeMutableBytes { buffer in
            retryingEINTR { pwrite(descriptor, buffer.baseAddress, count, 0) }
        }
        guard written == count else { throw SystemError("write '\(text)' to", path: path) }
    }

    func read() throws(SystemError) -> String {
        var content: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let offset = content.count
            let count = chunk.withUnsafeMutableBytes { raw in
                retryingEINTR { pread(descriptor, raw.baseAddress, raw.count, off_t(offset)) }
            }
            guard count >= 0 else { throw SystemError("read", path: path) }
            if count == 0 { break }
            content.append(contentsOf: chunk[..<count])
        }
        return String(decoding: content, as: UTF8.self)
    }

    func readInteger() throws(SystemError) -> Int64 {
        let text = try read().trimmingWhitespace()
        guard let value = Int64(text) else { throw SystemError("parse integer from", path: path, errno: EINVAL) }
        return value
    }

    /// The value of `key` in a "key value" per line file (memory.events, cpu.stat, …).
    func readField(_ key: String) throws(SystemError) -> Int64? {
        for line in try read().split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0] == key { return Int64(parts[1].trimmingWhitespace()) }
        }
        return nil
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        var view = Substring(self)
        while let first = view.first, first.isWhitespace { view.removeFirst() }
        while let last = view.last, last.isWhitespace { view.removeLast() }
        return String(view)
    }
}

/// Reads a whole small file (procfs, sysfs, cgroupfs), or nil when it cannot be opened.
public func readSmallFile(_ path: String) -> String? {
    guard let file = try? ControlFile(path: path, writable: false) else { return nil }
    return try? file.read()
}

/// Writes `text` to `path` with one write(2) at the current offset: for files such as
/// /proc/PID/uid_map that take exactly one write and refuse pwrite.
func writeOnce(_ text: String, to path: String) throws(SystemError) {
    let fd = open(path, O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { throw SystemError("open", path: path) }
    defer { close(fd) }
    var bytes = Array(text.utf8)
    let count = bytes.count
    let written = bytes.withUnsafeMutableBytes { buffer in retryingEINTR { Glibc.write(fd, buffer.baseAddress, count) } }
    guard written == count else { throw SystemError("write '\(text.trimmingWhitespace())' to", path: path) }
}
