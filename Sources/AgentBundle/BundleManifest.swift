import Yams

/// agent.yaml at the bundle's root: how to start the agent.
public struct BundleManifest: Sendable, Equatable {
    /// argv; a relative argv[0] is a path inside the bundle (under /agent).
    public var entrypoint: [String]
    /// The working directory relative to the bundle root; nil: the root (/agent).
    public var workdir: String?
    /// The sandbox profile the agent asks for; nil: the runner's default.
    public var profile: String?

    public static let fileName = "agent.yaml"

    public init(entrypoint: [String], workdir: String? = nil, profile: String? = nil) {
        self.entrypoint = entrypoint
        self.workdir = workdir
        self.profile = profile
    }

    public static func parse(_ text: String) throws(BundleError) -> BundleManifest {
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch { throw .badManifest("not YAML: \(error)") }
        guard let mapping = node?.mapping else { throw .badManifest("must be a mapping") }
        var manifest = BundleManifest(entrypoint: [])
        for (key, value) in mapping {
            switch key.string {
            case "entrypoint":
                if let single = value.string, value.scalar != nil {
                    manifest.entrypoint = [single]
                } else if let list = value.sequence {
                    manifest.entrypoint = try list.map { item throws(BundleError) in
                        guard let text = item.string else { throw .badManifest("entrypoint items must be strings") }
                        return text
                    }
                } else {
                    throw .badManifest("entrypoint must be a string or a list of strings")
                }
            case "workdir":
                guard let text = value.string else { throw .badManifest("workdir must be a string") }
                manifest.workdir = text
            case "profile":
                guard let text = value.string else { throw .badManifest("profile must be a string") }
                manifest.profile = text
            case "limits", "description", "output_schema", "name", "version":
                continue  // for the control plane; the runner takes limits from the request
            default:
                throw .badManifest("unknown key \(key.string ?? "?") (line \((key.mark?.line ?? 0)))")
            }
        }
        guard let program = manifest.entrypoint.first, !program.isEmpty else { throw .badManifest("entrypoint is required") }
        if let workdir = manifest.workdir {
            guard !workdir.hasPrefix("/"), BundlePath.isSafe(workdir) else {
                throw .badManifest("workdir \(workdir.debugDescription) must be a relative path inside the bundle")
            }
        }
        return manifest
    }
}

enum BundlePath {
    /// A relative path without "..", NUL or empty components (after dropping "./").
    static func isSafe(_ path: String) -> Bool {
        !path.contains("\0") && path.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { $0 != ".." }
    }

    /// "./a//b/" → "a/b"; nil when it is absolute or climbs out.
    static func normalise(_ path: String) -> String? {
        guard !path.hasPrefix("/"), !path.contains("\0") else { return nil }
        var parts: [Substring] = []
        for part in path.split(separator: "/") where part != "." {
            if part == ".." { return nil }
            parts.append(part)
        }
        return parts.joined(separator: "/")
    }
}
