import ArgumentParser
import Foundation
import Sandbox

/// The limits a run may ask for, as `exec` and `submit` both take them.
struct LimitOptions: ParsableArguments {
    @Option(name: .long, help: "Memory limit, e.g. 64M.")
    var memory: String?

    @Option(name: .long, help: "Process/thread limit.")
    var pids: Int64?

    @Option(name: .long, help: "CPU bandwidth in CPUs, e.g. 0.5.")
    var cpus: String?

    @Option(name: .long, help: "CPU-time limit, e.g. 2s or 500ms.")
    var timeout: String?

    @Option(name: .customLong("wall-timeout"), help: "Wall-clock limit, e.g. 5s.")
    var wallTimeout: String?

    func request() throws -> LimitRequest {
        var limits = LimitRequest()
        limits.memoryBytes = try memory.map { text in
            guard let bytes = Quantity.bytes(text) else { throw ValidationError("--memory: \(text) is not a size like 64M") }
            return bytes
        }
        limits.pids = pids
        limits.milliCPUs = try cpus.map { text in
            guard let milli = Quantity.milliCPUs(text) else { throw ValidationError("--cpus: \(text) is not a CPU count like 0.5") }
            return milli
        }
        limits.cpuTimeMs = try timeout.map { text in
            guard let ms = Quantity.milliseconds(text) else { throw ValidationError("--timeout: \(text) is not a duration like 2s") }
            return ms
        }
        limits.wallTimeMs = try wallTimeout.map { text in
            guard let ms = Quantity.milliseconds(text) else { throw ValidationError("--wall-timeout: \(text) is not a duration like 5s") }
            return ms
        }
        return limits
    }
}

/// `--env K=V`, `--stdin FILE` and `--json [FILE]`, shared by `exec` and `submit`.
struct IOOptions: ParsableArguments {
    @Option(name: .customLong("env"), help: "Set K=V in the program's environment.")
    var environment: [String] = []

    @Option(name: .customLong("stdin"), help: "Feed this file to the program's stdin.")
    var stdinFile: String?

    @Flag(name: .customLong("json"), help: "Print the result record as JSON on stderr (or --json FILE).")
    var json = false

    @Option(name: .customLong("json-file"), help: .hidden)
    var jsonFile: String?

    func variables() throws -> [EnvironmentVariable] {
        try environment.map { pair in
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw ValidationError("--env: \(pair) is not K=V")
            }
            return EnvironmentVariable(name: String(pair[..<equals]), value: String(pair[pair.index(after: equals)...]))
        }
    }

    /// The stdin file, checked now so a missing one is a usage error before anything runs.
    func checkedStdinFile() throws -> String? {
        if let stdinFile, access(stdinFile, R_OK) != 0 {
            throw ValidationError("--stdin: cannot read \(stdinFile): \(String(cString: strerror(errno)))")
        }
        return stdinFile
    }

    /// Writes the result record where `--json` asked for it, if it did.
    func writeRecord<Record: Encodable>(_ record: Record) throws {
        guard json || jsonFile != nil else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try writeRecord(json: Array(try encoder.encode(record)))
    }

    /// Writes an already serialized record where `--json` asked for it, if it did.
    func writeRecord(json record: [UInt8]) throws {
        guard json || jsonFile != nil else { return }
        var data = Data(record)
        data.append(0x0A)
        if let jsonFile {
            guard FileManager.default.createFile(atPath: jsonFile, contents: data) else {
                fail("cannot write \(jsonFile)", code: RunnerExit.usage)
            }
        } else {
            FileHandle.standardError.write(data)
        }
    }
}
