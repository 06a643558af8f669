import BenchSupport
import Foundation

/// The benchmark's agent: `/bin/sh main.sh`, which prints `{"ok": true}` — as little work as an
/// agent can do, so what is measured is the path around it.
enum TrivialAgent {
    static let manifest = "entrypoint: [/bin/sh, main.sh]\nprofile: default\n"
    static let script = "echo '{\"ok\": true}'\n"

    struct Bundle: Sendable {
        let archive: [UInt8]
        let sha256: String
    }

    static func archive(in work: String) throws -> Bundle {
        let source = work + "/agent-src"
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        try manifest.write(toFile: source + "/agent.yaml", atomically: true, encoding: .utf8)
        try script.write(toFile: source + "/main.sh", atomically: true, encoding: .utf8)
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/bin/tar")
        tar.arguments = ["-czf", work + "/agent.tar.gz", "-C", source, "agent.yaml", "main.sh"]
        try tar.run()
        tar.waitUntilExit()
        guard tar.terminationStatus == 0 else { throw BenchError(message: "tar failed") }
        let archive = Array(try Data(contentsOf: URL(fileURLWithPath: work + "/agent.tar.gz")))
        let sum = Process()
        sum.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        sum.arguments = [work + "/agent.tar.gz"]
        let pipe = Pipe()
        sum.standardOutput = pipe
        try sum.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        sum.waitUntilExit()
        return Bundle(archive: archive, sha256: String(output.prefix(64)))
    }
}
