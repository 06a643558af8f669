import Glibc

/// Reads operator-edited profile YAML into validated `Profile` values.
///
/// Everything is checked at load time, with the file, line and field of the first problem,
/// so that a bad edit is refused on reload (the runner keeps its previous set) instead of
/// failing runs later. The schema is documented in `profiles/default.yaml`.
public enum ProfileLoader {
    /// Loads one profile file. A relative `seccomp.oci_file` is resolved against the
    /// directory of `path`.
    public static func load(path: String) throws(ProfileError) -> Profile {
        try parse(yaml: readText(at: path), path: path, expectedName: nil)
    }

    /// Parses profile YAML; `path` names it in messages and anchors a relative `oci_file`.
    public static func parse(yaml: String, path: String) throws(ProfileError) -> Profile {
        try parse(yaml: yaml, path: path, expectedName: nil)
    }

    /// Loads every `*.yaml` directly inside `directory`, keyed by profile name.
    ///
    /// All or nothing: one bad file fails the whole set, so a reload never leaves the
    /// runner with half of an edit. Each profile's `name` must equal its file's stem,
    /// so what operators see in the directory is what requests refer to.
    public static func loadDirectory(_ directory: String) throws(ProfileError) -> [String: Profile] {
        let names = try profileNames(in: directory)
        guard !names.isEmpty else {
            throw ProfileError(file: directory, message: "no profiles: the directory has no *.yaml files")
        }
        var profiles: [String: Profile] = [:]
        for name in names {
            let path = joinPath(directory, name + ".yaml")
            profiles[name] = try parse(yaml: readText(at: path), path: path, expectedName: name)
        }
        return profiles
    }

    /// A profile by name (`directory/NAME.yaml`) or, when the argument contains `/` or ends
    /// in `.yaml`/`.yml`, by file path.
    public static func resolve(_ nameOrPath: String, directory: String) throws(ProfileError) -> Profile {
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".yaml") || nameOrPath.hasSuffix(".yml") {
            return try load(path: nameOrPath)
        }
        let path = joinPath(directory, nameOrPath + ".yaml")
        guard isValidName(nameOrPath), access(path, F_OK) == 0 else {
            let available = (try? profileNames(in: directory)) ?? []
            let list = available.isEmpty ? "none" : available.joined(separator: ", ")
            throw ProfileError(file: directory, message: "no profile named '\(nameOrPath)' (available: \(list))")
        }
        return try parse(yaml: readText(at: path), path: path, expectedName: nameOrPath)
    }

    // MARK: - the document

    private static let topLevelKeys = [
        "name", "description", "user_namespace", "hostname", "limits", "filesystem", "environment", "seccomp",
    ]

    static func parse(yaml: String, path: String, expectedName: String?) throws(ProfileError) -> Profile {
        let document = try composeDocument(yaml, file: path).mapping(allowedKeys: topLevelKeys)

        let nameField = try document.required("name")
        let name = try nameField.string()
        guard isValidName(name) else {
            throw nameField.error("'\(name)' is not a valid profile name (lowercase letters, digits, '_' and '-', starting with a letter or digit, at most 63 characters)")
        }
        if let expectedName, name != expectedName {
            throw nameField.error("the name '\(name)' must match the file name '\(expectedName).yaml'")
        }

        let descriptionField = try document.required("description")
        let description = try descriptionField.string()
        guard !description.allSatisfy(\.isWhitespace) else {
            throw descriptionField.error("must say what the profile is for")
        }

        var userNamespace = false
        if let field = document.optional("user_namespace") { userNamespace = try field.bool() }

        var hostname = "sandbox"
        if let field = document.optional("hostname") {
            hostname = try field.string()
            guard isValidHostname(hostname) else {
                throw field.error("'\(hostname)' is not a valid hostname (1 to 63 of a-z, 0-9 and '-', not starting or ending with '-')")
            }
        }

        var environment: [EnvironmentVariable] = []
        if let field = document.optional("environment") { environment = try parseEnvironment(field) }

        var warnings: [String] = []
        let limits = try parseLimits(document.required("limits"))
        let filesystem = try parseFilesystem(document.required("filesystem"))
        let seccomp = try parseSeccomp(
            document.required("seccomp"), baseDirectory: directoryOf(path), warnings: &warnings)

        return Profile(
            name: name, description: description, sourcePath: path, limits: limits, filesystem: filesystem,
            environment: environment, userNamespace: userNamespace, hostname: hostname, seccomp: seccomp,
            warnings: warnings)
    }

    private static func parseEnvironment(_ field: YAMLField) throws(ProfileError) -> [EnvironmentVariable] {
        var variables: [EnvironmentVariable] = []
        for entry in try field.mapping(allowedKeys: nil).entries {
            guard isValidVariableName(entry.key) else {
                throw ProfileError(
                    file: field.file, line: entry.keyMark?.line, column: entry.keyMark?.column,
                    field: entry.value.path,
                    message: "'\(entry.key)' is not a valid variable name (letters, digits and '_', not starting with a digit)")
            }
            // `NAME:` with nothing after it is the empty string, as in a shell assignment.
            let value = entry.value.isEmptyScalar ? "" : try entry.value.string()
            guard !value.utf8.contains(0) else { throw entry.value.error("a value cannot contain a NUL byte") }
            variables.append(EnvironmentVariable(name: entry.key, value: value))
        }
        return variables
    }

    // MARK: - names

    static func isValidName(_ name: String) -> Bool {
        guard let first = name.utf8.first, name.utf8.count <= 63, isLowerAlphanumeric(first) else { return false }
        return name.utf8.allSatisfy { isLowerAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    private static func isValidHostname(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...63).contains(bytes.count), bytes.first != UInt8(ascii: "-"), bytes.last != UInt8(ascii: "-")
        else { return false }
        return bytes.allSatisfy { isLowerAlphanumeric($0) || $0 == UInt8(ascii: "-") }
    }

    private static func isValidVariableName(_ name: String) -> Bool {
        func isLetter(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20) || byte == UInt8(ascii: "_")
        }
        guard let first = name.utf8.first, isLetter(first) else { return false }
        return name.utf8.allSatisfy { isLetter($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    private static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}

// MARK: - files

extension ProfileLoader {
    /// The whole file as UTF-8 text, or an error saying why it cannot be read.
    static func readText(at path: String) throws(ProfileError) -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ProfileError(file: path, message: "cannot open: \(errnoText())") }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw ProfileError(file: path, message: "cannot read: \(errnoText())")
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[..<count])
            // Profiles are a few kilobytes; refuse to slurp something that clearly is not one.
            guard bytes.count <= 16 << 20 else { throw ProfileError(file: path, message: "larger than 16 MiB") }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ProfileError(file: path, message: "not valid UTF-8 text")
        }
        return text
    }

    /// Stems of the `*.yaml` files directly in `directory`, sorted.
    private static func profileNames(in directory: String) throws(ProfileError) -> [String] {
        guard let stream = opendir(directory) else {
            throw ProfileError(file: directory, message: "cannot list the profile directory: \(errnoText())")
        }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let fileName = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            // Dot files are editor droppings (`.default.yaml.swp`, `.#default.yaml`), never profiles.
            guard !fileName.hasPrefix("."), fileName.hasSuffix(".yaml") else { continue }
            names.append(String(fileName.dropLast(".yaml".count)))
        }
        return names.sorted()
    }

    static func directoryOf(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func joinPath(_ directory: String, _ relative: String) -> String {
        if relative.hasPrefix("/") || directory == "." { return relative }
        return directory.hasSuffix("/") ? directory + relative : directory + "/" + relative
    }

    private static func errnoText() -> String {
        String(cString: strerror(errno))
    }
}
