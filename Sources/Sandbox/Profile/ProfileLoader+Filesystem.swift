/// The `filesystem:` section: what the fresh root contains, and the path rules for it.
extension ProfileLoader {
    private static let filesystemKeys = ["read_only", "tmpfs", "workdir", "devices"]
    private static let mappingKeys = ["source", "destination", "optional"]
    private static let knownDevices = ["null", "zero", "full", "random", "urandom", "tty"]

    static func parseFilesystem(_ field: YAMLField) throws(ProfileError) -> FilesystemPolicy {
        let filesystem = try field.mapping(allowedKeys: filesystemKeys)
        // Two mounts on one destination would silently hide the first: refuse instead.
        var destinations: [String: String] = [:]
        func claim(_ destination: String, by item: YAMLField) throws(ProfileError) {
            if let previous = destinations[destination] {
                throw item.error("'\(destination)' is already mounted by \(previous)")
            }
            destinations[destination] = item.path
        }

        var readOnly: [PathMapping] = []
        for item in try filesystem.required("read_only").sequence() {
            let mapping = try parsePathMapping(item)
            try claim(mapping.destination, by: item)
            readOnly.append(mapping)
        }

        var tmpfs: [String] = []
        if let list = filesystem.optional("tmpfs") {
            for item in try list.sequence() {
                let path = try destinationPath(item)
                try claim(path, by: item)
                tmpfs.append(path)
            }
        }

        // The working directory may coincide with a tmpfs or lie under a bind; it is only
        // created (as its own tmpfs) when nothing else provides it.
        let workdir = try destinationPath(filesystem.required("workdir"))

        var devices: [String] = []
        if let list = filesystem.optional("devices") {
            for item in try list.sequence() {
                let device = try item.string()
                guard knownDevices.contains(device) else {
                    throw item.error("unknown device '\(device)' (expected one of: \(knownDevices.joined(separator: ", ")))")
                }
                guard !devices.contains(device) else { throw item.error("'\(device)' is listed twice") }
                devices.append(device)
            }
        }
        return FilesystemPolicy(readOnly: readOnly, tmpfs: tmpfs, workdir: workdir, devices: devices)
    }

    /// `- /usr` or `- {source: /opt/x, destination: /x, optional: true}`.
    private static func parsePathMapping(_ item: YAMLField) throws(ProfileError) -> PathMapping {
        guard case .mapping = item.node else {
            let path = try sourcePath(item)
            return PathMapping(source: path, destination: try destinationPath(item))
        }
        let mapping = try item.mapping(allowedKeys: mappingKeys)
        let sourceField = try mapping.required("source")
        let source = try sourcePath(sourceField)
        let destination = try destinationPath(mapping.optional("destination") ?? sourceField)
        var optional = false
        if let field = mapping.optional("optional") { optional = try field.bool() }
        return PathMapping(source: source, destination: destination, optional: optional)
    }

    /// A host path to bind. Host `/proc` is refused: its per-process magic links
    /// (`/proc/<pid>/root`) lead straight back into the host's root.
    private static func sourcePath(_ field: YAMLField) throws(ProfileError) -> String {
        let path = try pathValue(field)
        if isUnder(path, "/proc") { throw field.error("'\(path)': host /proc must not be exposed") }
        return path
    }

    /// A path inside the sandbox that something is mounted on. `/`, `/proc` and `/dev` are
    /// the engine's own (the fresh root, the new procfs, the minimal device set).
    private static func destinationPath(_ field: YAMLField) throws(ProfileError) -> String {
        let path = try pathValue(field)
        if path == "/" { throw field.error("'/' cannot be a mount destination: the root is built by the sandbox") }
        for reserved in ["/proc", "/dev"] where isUnder(path, reserved) {
            throw field.error("'\(path)' is under \(reserved), which the sandbox provides itself")
        }
        return path
    }

    /// An absolute, normalised path: the mount plan compares and joins paths as strings, so
    /// `/usr/`, `/usr//lib` or `/usr/../etc` would defeat those checks.
    private static func pathValue(_ field: YAMLField) throws(ProfileError) -> String {
        let path = try field.string()
        if let problem = pathProblem(path) { throw field.error("'\(path)' \(problem)") }
        return path
    }

    static func pathProblem(_ path: String) -> String? {
        guard path.hasPrefix("/") else { return "must be an absolute path (starting with /)" }
        if path.utf8.contains(0) { return "must not contain a NUL byte" }
        if path.utf8.count >= 4096 { return "is longer than PATH_MAX" }
        if path == "/" { return nil }
        if path.hasSuffix("/") { return "must not end with '/'" }
        if path.contains("//") { return "must not contain '//'" }
        let components = path.split(separator: "/")
        if components.contains(where: { $0 == "." || $0 == ".." }) { return "must not contain '.' or '..' components" }
        return nil
    }

    private static func isUnder(_ path: String, _ directory: String) -> Bool {
        path == directory || path.hasPrefix(directory + "/")
    }
}
