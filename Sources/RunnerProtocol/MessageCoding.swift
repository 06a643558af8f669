import JSONCore

/// `{"type": "...", ...fields}` for both directions, written and read field by field with the
/// project's strict JSON parser and writer. (Foundation's JSONEncoder/JSONDecoder, through
/// Codable's containers, were the largest cost of the daemon's own per-run work.) Unknown
/// types and missing or mistyped fields are protocol errors, which the receiver answers by
/// closing the connection.
public struct ProtocolError: Error, CustomStringConvertible, Sendable, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// JSON for one frame's payload.
public enum MessageJSON {
    public static func encode(_ message: ClientMessage) -> [UInt8] { message.json.serialized() }
    public static func encode(_ message: RunnerMessage) -> [UInt8] { message.json.serialized() }

    public static func decode(_ type: ClientMessage.Type, from bytes: [UInt8]) throws(ProtocolError) -> ClientMessage {
        let fields = try fields(of: bytes)
        return try ClientMessage(fields, type: try fields.string("type"))
    }

    public static func decode(_ type: RunnerMessage.Type, from bytes: [UInt8]) throws(ProtocolError) -> RunnerMessage {
        let fields = try fields(of: bytes)
        return try RunnerMessage(fields, type: try fields.string("type"))
    }

    private static func fields(of bytes: [UInt8]) throws(ProtocolError) -> WireFields {
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch { throw ProtocolError("malformed message: \(error)") }
        return try WireFields(value)
    }

    static func unknownType(_ type: String) -> ProtocolError { ProtocolError("malformed message: unknown message type \(type)") }
}

// MARK: Client → runner

extension ClientMessage {
    var json: JSONValue {
        switch self {
        case .hello(let hello):
            return ["type": "hello", "versions": .array(hello.versions.map { .number(JSONNumber($0)) }), "client": .string(hello.client)]
        case .execute(let request):
            var object: JSONObject = ["type": "execute"]
            request.write(into: &object)
            return .object(object)
        case .cancel(let runID): return ["type": "cancel", "run_id": .string(runID)]
        case .collect(let runID): return ["type": "collect", "run_id": .string(runID)]
        case .status: return ["type": "status"]
        case .drain: return ["type": "drain"]
        }
    }

    init(_ fields: WireFields, type: String) throws(ProtocolError) {
        switch type {
        case "hello": self = .hello(Hello(versions: try fields.ints("versions"), client: try fields.string("client")))
        case "execute": self = .execute(try ExecuteRequest(fields))
        case "cancel": self = .cancel(runID: try fields.string("run_id"))
        case "collect": self = .collect(runID: try fields.string("run_id"))
        case "status": self = .status
        case "drain": self = .drain
        default: throw MessageJSON.unknownType(type)
        }
    }
}

extension ExecuteRequest {
    func write(into object: inout JSONObject) {
        object["run_id"] = .string(runID)
        object["profile"] = .string(profile)
        object["argv"] = .array(arguments.map { .string($0) })
        object["environment"] = .array(environment.map { variable -> JSONValue in ["name": .string(variable.name), "value": .string(variable.value)] })
        object["limits"] = limits.json
        object["stdin"] = .string(Base64.encode(stdin))
        object["stream_logs"] = .bool(streamLogs)
        object["stream_stdout"] = .bool(streamStdout)
        if let bundle {
            var reference: JSONObject = ["sha256": .string(bundle.sha256)]
            if let data = bundle.data { reference["data"] = .string(Base64.encode(data)) }
            object["bundle"] = .object(reference)
        }
    }

    init(_ fields: WireFields) throws(ProtocolError) {
        self.init(
            runID: try fields.string("run_id"), profile: try fields.string("profile"), arguments: try fields.strings("argv"),
            environment: try fields.objects("environment") { (variable: WireFields) throws(ProtocolError) in
                Variable(name: try variable.string("name"), value: try variable.string("value"))
            } ?? [],
            limits: try fields.optionalObject("limits").map { (limits: WireFields) throws(ProtocolError) in try RequestedLimits(limits) } ?? RequestedLimits(),
            stdin: try fields.optionalBytes("stdin") ?? [],
            streamLogs: try fields.optionalBool("stream_logs") ?? true,
            streamStdout: try fields.optionalBool("stream_stdout") ?? true,
            bundle: try fields.optionalObject("bundle").map { (bundle: WireFields) throws(ProtocolError) in
                BundleReference(sha256: try bundle.string("sha256"), data: try bundle.optionalBytes("data"))
            })
    }
}

extension RequestedLimits {
    private static let keys = ["memory_bytes", "pids", "milli_cpus", "cpu_time_ms", "wall_time_ms", "stdout_bytes", "stderr_bytes"]
    private var values: [Int64?] { [memoryBytes, pids, milliCPUs, cpuTimeMs, wallTimeMs, stdoutBytes, stderrBytes] }

    /// Only the limits asked for; the rest keep the profile's defaults.
    var json: JSONValue {
        var object = JSONObject()
        for (key, value) in zip(Self.keys, values) where value != nil { object[key] = value.json }
        return .object(object)
    }

    init(_ fields: WireFields) throws(ProtocolError) {
        self.init(memoryBytes: try fields.optionalInt64("memory_bytes"), pids: try fields.optionalInt64("pids"),
                  milliCPUs: try fields.optionalInt64("milli_cpus"), cpuTimeMs: try fields.optionalInt64("cpu_time_ms"),
                  wallTimeMs: try fields.optionalInt64("wall_time_ms"), stdoutBytes: try fields.optionalInt64("stdout_bytes"),
                  stderrBytes: try fields.optionalInt64("stderr_bytes"))
    }
}

// MARK: Runner → client

extension RunnerMessage {
    var json: JSONValue {
        switch self {
        case .welcome(let welcome):
            return ["type": "welcome", "version": .number(JSONNumber(welcome.version)), "runner_version": .string(welcome.runnerVersion)]
        case .accepted(let runID, let position):
            return ["type": "accepted", "run_id": .string(runID), "queue_position": .number(JSONNumber(position))]
        case .rejected(let runID, let reason, let detail):
            return ["type": "rejected", "run_id": .string(runID), "reason": .string(reason.rawValue), "detail": .string(detail)]
        case .started(let runID):
            return ["type": "started", "run_id": .string(runID)]
        case .log(let chunk):
            return ["type": "log", "run_id": .string(chunk.runID), "stream": .string(chunk.stream),
                    "sequence": .number(JSONNumber(chunk.sequence)), "data": .string(Base64.encode(chunk.data))]
        case .finished(let runID, let record, let stdout):
            return ["type": "finished", "run_id": .string(runID), "record": record.json, "stdout": .string(Base64.encode(stdout))]
        case .status(let report):
            return ["type": "status", "runner_version": .string(report.runnerVersion), "slots": .number(JSONNumber(report.slots)),
                    "slots_busy": .number(JSONNumber(report.slotsBusy)), "queue_capacity": .number(JSONNumber(report.queueCapacity)),
                    "queue_depth": .number(JSONNumber(report.queueDepth)), "profiles": .array(report.profiles.map { .string($0) }),
                    "draining": .bool(report.draining), "quarantined_slots": .number(JSONNumber(report.quarantinedSlots)),
                    "host_safe": .bool(report.hostSafe)]
        case .error(let message):
            return ["type": "error", "message": .string(message)]
        }
    }

    init(_ fields: WireFields, type: String) throws(ProtocolError) {
        switch type {
        case "welcome": self = .welcome(Welcome(version: try fields.int("version"), runnerVersion: try fields.string("runner_version")))
        case "accepted": self = .accepted(runID: try fields.string("run_id"), queuePosition: try fields.int("queue_position"))
        case "rejected":
            let reason = try fields.string("reason")
            guard let known = RejectReason(rawValue: reason) else { throw ProtocolError("malformed message: unknown reason \(reason)") }
            self = .rejected(runID: try fields.string("run_id"), reason: known, detail: try fields.string("detail"))
        case "started": self = .started(runID: try fields.string("run_id"))
        case "log":
            self = .log(LogChunk(runID: try fields.string("run_id"), stream: try fields.string("stream"),
                                 sequence: try fields.int("sequence"), data: try fields.bytes("data")))
        case "finished":
            self = .finished(runID: try fields.string("run_id"), record: try RunRecord(try fields.object("record")),
                             stdout: try fields.bytes("stdout"))
        case "status":
            self = .status(StatusReport(
                runnerVersion: try fields.string("runner_version"), slots: try fields.int("slots"), slotsBusy: try fields.int("slots_busy"),
                queueCapacity: try fields.int("queue_capacity"), queueDepth: try fields.int("queue_depth"),
                profiles: try fields.strings("profiles"), draining: try fields.bool("draining"),
                quarantinedSlots: try fields.int("quarantined_slots"), hostSafe: try fields.bool("host_safe")))
        case "error": self = .error(message: try fields.string("message"))
        default: throw MessageJSON.unknownType(type)
        }
    }
}

extension RunRecord {
    /// Every key, absent values as null: the keys of `agentgrid-runner exec --json`.
    public var json: JSONValue {
        var setup: JSONValue = .null
        if let setupError {
            setup = ["step": .string(setupError.step), "errno": .number(JSONNumber(Int64(setupError.errno))),
                     "errno_name": .string(setupError.errnoName), "detail": setupError.detail.json]
        }
        return ["outcome": .string(outcome), "exit_code": exitCode.json, "signal": signal.json, "limit_hit": limitHit.json,
                "wall_us": .number(JSONNumber(wallMicroseconds)), "spawn_us": .number(JSONNumber(spawnMicroseconds)),
                "cpu_us": .number(JSONNumber(cpuMicroseconds)), "peak_memory_bytes": .number(JSONNumber(peakMemoryBytes)),
                "stdout_bytes": .number(JSONNumber(stdoutBytes)), "stderr_bytes": .number(JSONNumber(stderrBytes)),
                "setup_error": setup, "seccomp_syscall": seccompSyscall.json, "profile": .string(profile)]
    }

    /// The record as `submit --json` prints it: keys sorted, as `exec --json` prints its own.
    public var sortedJSONText: [UInt8] { json.sortingKeys().serialized() }

    init(_ fields: WireFields) throws(ProtocolError) {
        self.init(
            outcome: try fields.string("outcome"), exitCode: try fields.optionalInt32("exit_code"), signal: try fields.optionalInt32("signal"),
            limitHit: try fields.optionalString("limit_hit"), wallMicroseconds: try fields.int64("wall_us"),
            spawnMicroseconds: try fields.optionalInt64("spawn_us") ?? 0, cpuMicroseconds: try fields.int64("cpu_us"),
            peakMemoryBytes: try fields.int64("peak_memory_bytes"), stdoutBytes: try fields.int64("stdout_bytes"),
            stderrBytes: try fields.int64("stderr_bytes"),
            setupError: try fields.optionalObject("setup_error").map { (setup: WireFields) throws(ProtocolError) in
                guard let errno = try setup.optionalInt32("errno") else { throw ProtocolError("malformed message: missing errno at record.setup_error") }
                return SetupError(step: try setup.string("step"), errno: errno, errnoName: try setup.string("errno_name"),
                                  detail: try setup.optionalString("detail"))
            },
            seccompSyscall: try fields.optionalString("seccomp_syscall"), profile: try fields.string("profile"))
    }
}
