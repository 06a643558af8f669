import AgentBundle
import Sandbox
import Yams

/// agent.yaml as the control plane reads it: what the runner needs (entrypoint, workdir,
/// profile — parsed by the runner's own `BundleManifest`, so both sides agree) plus what only
/// the control plane uses: the requested limits and the output schema.
struct AgentManifest: Sendable, Equatable {
    static let defaultProfile = "default"

    var entrypoint: [String]
    var workdir: String?
    var profile: String
    var memoryBytes: Int64?
    var wallTimeMs: Int64?
    var pids: Int64?
    var outputSchema: JSONValue?

    struct Problem: Error, Equatable, CustomStringConvertible {
        var description: String
    }

    static func parse(_ text: String) throws(Problem) -> AgentManifest {
        let base: BundleManifest
        do { base = try BundleManifest.parse(text) } catch { throw Problem(description: error.description) }
        var manifest = AgentManifest(entrypoint: base.entrypoint, workdir: base.workdir, profile: base.profile ?? defaultProfile)
        let mapping: Node.Mapping
        do {
            guard let parsed = try Yams.compose(yaml: text)?.mapping else { throw Problem(description: "agent.yaml: must be a mapping") }
            mapping = parsed
        } catch let problem as Problem { throw problem } catch { throw Problem(description: "agent.yaml: not YAML: \(error)") }
        if let limits = mapping["limits"] {
            guard let entries = limits.mapping else { throw Problem(description: "agent.yaml: limits must be a mapping") }
            for (key, value) in entries {
                guard let name = key.string, let text = value.string, value.scalar != nil else {
                    throw Problem(description: "agent.yaml: limits.\(key.string ?? "?") must be a scalar")
                }
                switch name {
                case "memory":
                    guard let bytes = Quantity.bytes(text) else { throw Problem(description: "agent.yaml: limits.memory \(text.debugDescription) is not a size (e.g. 128M)") }
                    manifest.memoryBytes = bytes
                case "timeout":
                    guard let ms = Quantity.milliseconds(text) else { throw Problem(description: "agent.yaml: limits.timeout \(text.debugDescription) is not a duration (e.g. 30s)") }
                    manifest.wallTimeMs = ms
                case "pids":
                    guard let count = Quantity.count(text) else { throw Problem(description: "agent.yaml: limits.pids \(text.debugDescription) is not a count") }
                    manifest.pids = count
                default:
                    throw Problem(description: "agent.yaml: unknown limit \(name) (memory, timeout, pids)")
                }
            }
        }
        if let schema = mapping["output_schema"] {
            let json = try Self.json(schema, path: "output_schema")
            do { _ = try OutputSchema.compile(json) } catch { throw Problem(description: "agent.yaml: \(error.description)") }
            manifest.outputSchema = json
        }
        return manifest
    }

    /// The limits as the runner protocol asks for them.
    var limitRequest: LimitRequest { LimitRequest(memoryBytes: memoryBytes, pids: pids, wallTimeMs: wallTimeMs) }

    /// YAML to JSON for the schema: plain scalars are typed the YAML 1.2 core way (numbers,
    /// booleans, null); quoted ones stay strings.
    private static func json(_ node: Node, path: String) throws(Problem) -> JSONValue {
        switch node {
        case .scalar(let scalar):
            if scalar.style != .plain { return .string(scalar.string) }
            switch scalar.string {
            case "null", "~", "": return .null
            case "true": return .bool(true)
            case "false": return .bool(false)
            default:
                if let number = JSONNumber(validating: scalar.string) { return .number(number) }
                return .string(scalar.string)
            }
        case .sequence(let sequence):
            var items: [JSONValue] = []
            for (index, item) in sequence.enumerated() { items.append(try json(item, path: "\(path)[\(index)]")) }
            return .array(items)
        case .mapping(let mapping):
            var members: [(String, JSONValue)] = []
            for (key, value) in mapping {
                guard let name = key.string else { throw Problem(description: "agent.yaml: \(path) has a key that is not a string") }
                members.append((name, try json(value, path: "\(path).\(name)")))
            }
            return .object(JSONObject(members))
        case .alias:
            throw Problem(description: "agent.yaml: \(path) uses a YAML alias")
        }
    }

    var json: JSONValue {
        var limits = JSONObject()
        if let memoryBytes { limits["memory_bytes"] = .number(JSONNumber(memoryBytes)) }
        if let wallTimeMs { limits["wall_time_ms"] = .number(JSONNumber(wallTimeMs)) }
        if let pids { limits["pids"] = .number(JSONNumber(pids)) }
        return [
            "entrypoint": .array(entrypoint.map(JSONValue.string)), "workdir": JSONValue(optional: workdir),
            "profile": .string(profile), "limits": .object(limits), "output_schema": outputSchema ?? .null,
        ]
    }
}

extension AgentManifest {
    /// Reads back what `json` stored (the manifest was validated at upload).
    init?(json: JSONValue) {
        guard let entrypoint = json["entrypoint"]?.arrayValue?.compactMap(\.stringValue), !entrypoint.isEmpty,
              let profile = json["profile"]?.stringValue else { return nil }
        self.init(entrypoint: entrypoint, workdir: json["workdir"]?.stringValue, profile: profile)
        let limits = json["limits"]
        memoryBytes = limits?["memory_bytes"]?.numberValue?.int64
        wallTimeMs = limits?["wall_time_ms"]?.numberValue?.int64
        pids = limits?["pids"]?.numberValue?.int64
        if let schema = json["output_schema"], !schema.isNull { outputSchema = schema }
    }
}
