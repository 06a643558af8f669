import Foundation
import Testing
@testable import RunnerProtocol

/// The runner protocol's frames as bytes: every message survives a round trip, the wire keeps
/// the documented shape (docs/runner-protocol.md), and bad frames fail with an error that
/// names what is wrong.
@Suite struct MessageCodingTests {
    static let record = RunRecord(
        outcome: "failed", exitCode: 3, signal: nil, limitHit: nil, wallMicroseconds: 12_345, spawnMicroseconds: 2_100,
        cpuMicroseconds: 900, peakMemoryBytes: 1 << 20, stdoutBytes: 2, stderrBytes: 0,
        setupError: .init(step: "mount", errno: 2, errnoName: "ENOENT", detail: nil), seccompSyscall: "ptrace", profile: "default")

    static let clientMessages: [ClientMessage] = [
        .hello(Hello(versions: [1, 2], client: "control-plane \u{e9}")),
        .execute(ExecuteRequest(runID: "r1", profile: "default", arguments: ["/bin/sh", "-c", "echo \"hi\"\n"],
                                environment: [.init(name: "A", value: "b=c")], limits: RequestedLimits(memoryBytes: 64 << 20, wallTimeMs: 5_000),
                                stdin: Array("{\"n\":1}".utf8), streamLogs: false, bundle: BundleReference(sha256: "ab", data: [0, 1, 255]))),
        .execute(ExecuteRequest(runID: "r2", profile: "strict", arguments: ["/bin/true"], streamStdout: false, bundle: BundleReference(sha256: "cd"))),
        .cancel(runID: "r1"), .collect(runID: "r2"), .status, .drain,
    ]

    static let runnerMessages: [RunnerMessage] = [
        .welcome(Welcome(version: 1, runnerVersion: "0.1.0")),
        .accepted(runID: "r1", queuePosition: 3),
        .rejected(runID: "r1", reason: .limitAboveCeiling, detail: "memory 8G above 1G"),
        .started(runID: "r1"),
        .log(LogChunk(runID: "r1", stream: "stderr", sequence: 7, data: Array("caf\u{e9} \u{1F642}".utf8))),
        .finished(runID: "r1", record: record, stdout: Array(0...255)),
        .finished(runID: "r2", record: RunRecord(outcome: "completed", exitCode: 0, profile: "default"), stdout: []),
        .status(StatusReport(runnerVersion: "0.1.0", slots: 2, slotsBusy: 1, queueCapacity: 64, queueDepth: 0,
                             profiles: ["default", "strict"], draining: false, quarantinedSlots: 0, hostSafe: true)),
        .error(message: "the first message must be hello"),
    ]

    private func object(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    private func decodeError(_ json: String, as client: Bool = true) -> String {
        do {
            if client { _ = try MessageJSON.decode(ClientMessage.self, from: Array(json.utf8)) } else {
                _ = try MessageJSON.decode(RunnerMessage.self, from: Array(json.utf8))
            }
            return "decoded"
        } catch {
            return error.message
        }
    }

    @Test(arguments: clientMessages)
    func clientMessagesRoundTrip(_ message: ClientMessage) throws {
        #expect(try MessageJSON.decode(ClientMessage.self, from: MessageJSON.encode(message)) == message)
    }

    @Test(arguments: runnerMessages)
    func runnerMessagesRoundTrip(_ message: RunnerMessage) throws {
        #expect(try MessageJSON.decode(RunnerMessage.self, from: MessageJSON.encode(message)) == message)
    }

    @Test func theDocumentedExecuteTakesItsDefaults() throws {
        let message = try MessageJSON.decode(ClientMessage.self, from: Array(#"{"type":"execute","run_id":"7f0c","profile":"default","argv":["/bin/echo","hi"]}"#.utf8))
        #expect(message == .execute(ExecuteRequest(runID: "7f0c", profile: "default", arguments: ["/bin/echo", "hi"])))
        guard case .execute(let request) = message else { return }
        #expect(request.streamLogs && request.streamStdout && request.environment.isEmpty && request.stdin.isEmpty && request.bundle == nil)
    }

    @Test func theWireHasTheDocumentedShape() throws {
        let execute = try object(MessageJSON.encode(Self.clientMessages[1]))
        #expect(execute["type"] as? String == "execute" && execute["argv"] as? [String] == ["/bin/sh", "-c", "echo \"hi\"\n"])
        #expect(execute["stdin"] as? String == "eyJuIjoxfQ==" && execute["stream_logs"] as? Bool == false)
        // Only the limits asked for travel; the others keep the profile's defaults.
        #expect((execute["limits"] as? [String: Any]).map { Set($0.keys) } == ["memory_bytes", "wall_time_ms"])
        #expect((execute["bundle"] as? [String: Any])?["data"] as? String == "AAH/")
        #expect((execute["environment"] as? [[String: String]]) == [["name": "A", "value": "b=c"]])

        let finished = try object(MessageJSON.encode(Self.runnerMessages[6]))
        let record = try #require(finished["record"] as? [String: Any])
        // Every key, absent values as null: the keys of `exec --json`.
        #expect(Set(record.keys) == ["outcome", "exit_code", "signal", "limit_hit", "wall_us", "spawn_us", "cpu_us", "peak_memory_bytes",
                                     "stdout_bytes", "stderr_bytes", "setup_error", "seccomp_syscall", "profile"])
        #expect(record["signal"] is NSNull && record["setup_error"] is NSNull && finished["stdout"] as? String == "")

        let log = try object(MessageJSON.encode(Self.runnerMessages[4]))
        #expect(log["data"] as? String == Data("caf\u{e9} \u{1F642}".utf8).base64EncodedString() && log["sequence"] as? Int == 7)
        #expect(String(decoding: Self.record.sortedJSONText, as: UTF8.self).hasPrefix(#"{"cpu_us":900,"exit_code":3,"limit_hit":null,"#))
    }

    @Test(arguments: [
        (#"{"type":"cancel"}"#, "malformed message: missing run_id"),
        (#"{"type":"cancel","run_id":7}"#, "malformed message: wrong type at run_id"),
        (#"{"type":"execute","run_id":"r","profile":"default","argv":"/bin/true"}"#, "malformed message: wrong type at argv"),
        (#"{"type":"execute","run_id":"r","profile":"default","argv":["/bin/true",1]}"#, "malformed message: wrong type at argv"),
        (#"{"type":"execute","run_id":"r","profile":"default","argv":["x"],"stdin":"abc"}"#, "malformed message: not base64 at stdin"),
        (#"{"type":"execute","run_id":"r","profile":"default","argv":["x"],"limits":{"pids":1.5}}"#, "malformed message: wrong type at limits.pids"),
        (#"{"type":"execute","run_id":"r","profile":"default","argv":["x"],"environment":[{"name":"A"}]}"#, "malformed message: missing value at environment[0]"),
        (#"{"type":"execute","run_id":"r","profile":"default","argv":["x"],"bundle":"ab"}"#, "malformed message: wrong type at bundle"),
        (#"{"type":"launch"}"#, "malformed message: unknown message type launch"),
        (#"{"run_id":"r"}"#, "malformed message: missing type"),
        (#"["hello"]"#, "malformed message: wrong type"),
    ])
    func badClientFramesNameWhatIsWrong(json: String, error: String) {
        #expect(decodeError(json) == error)
    }

    @Test(arguments: [
        (#"{"type":"finished","run_id":"r","stdout":"","record":{"outcome":"completed","profile":"p","cpu_us":0,"peak_memory_bytes":0,"stdout_bytes":0,"stderr_bytes":0}}"#,
         "malformed message: missing wall_us at record"),
        (#"{"type":"finished","run_id":"r","stdout":"","record":{"outcome":"completed","profile":"p","wall_us":0,"cpu_us":0,"peak_memory_bytes":0,"stdout_bytes":0,"stderr_bytes":0,"exit_code":4294967296}}"#,
         "malformed message: wrong type at record.exit_code"),
        (#"{"type":"rejected","run_id":"r","reason":"tired","detail":""}"#, "malformed message: unknown reason tired"),
        (#"{"type":"log","run_id":"r","stream":"stdout","sequence":0,"data":"=AAA"}"#, "malformed message: not base64 at data"),
    ])
    func badRunnerFramesNameWhatIsWrong(json: String, error: String) {
        #expect(decodeError(json, as: false) == error)
    }

    @Test func invalidJSONIsAProtocolError() {
        #expect(decodeError("{not json").hasPrefix("malformed message: "))
        #expect(decodeError("").hasPrefix("malformed message: "))
        #expect(decodeError(#"{"type":"status"} x"#).hasPrefix("malformed message: "))
    }

    @Test func base64RoundTripsEveryLengthAndRefusesWhatIsNotBase64() {
        for length in 0..<70 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            let text = Base64.encode(bytes)
            #expect(text == Data(bytes).base64EncodedString())
            #expect(Base64.decode(text) == bytes)
        }
        for bad in ["A", "AB=C", "A===", "AAAA=AAA", "AA A", "AA\u{e9}", "AAA=AAAA", "****"] {
            #expect(Base64.decode(bad) == nil, "\(bad)")
        }
    }
}
