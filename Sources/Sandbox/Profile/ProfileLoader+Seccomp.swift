/// The `seccomp:` section: an allow-list (inline, from an OCI file, or both) and what
/// everything else gets.
extension ProfileLoader {
    private static let seccompKeys = ["default_action", "oci_file", "allow", "deny", "overrides"]
    /// Without these no program can start or end: the policy would only ever kill.
    private static let essentialSyscalls = ["execve", "exit_group"]

    static func parseSeccomp(
        _ field: YAMLField, baseDirectory: String, warnings: inout [String]
    ) throws(ProfileError) -> SeccompPolicy {
        let seccomp = try field.mapping(allowedKeys: seccompKeys)
        var defaultAction: SeccompPolicy.Action?
        var allowed: Set<String> = []
        var overrides: [String: SeccompPolicy.Action] = [:]
        var origin = "inline"

        if let fileField = seccomp.optional("oci_file") {
            let name = try fileField.string()
            guard !name.isEmpty else { throw fileField.error("must name a file") }
            let path = joinPath(baseDirectory, name)
            // A missing file is the profile's mistake (point at oci_file); a bad one is the file's.
            let json: String
            do {
                json = try readText(at: path)
            } catch {
                throw fileField.error("cannot use '\(path)': \(error.message)")
            }
            let file = try OCISeccompFile.parse(json: json, path: path)
            defaultAction = file.defaultAction
            allowed = Set(file.allow)
            for rule in file.overrides { overrides[rule.name] = rule.action }
            warnings += file.warnings
            origin = path
        }

        if let actionField = seccomp.optional("default_action") {
            defaultAction = try parseAction(actionField, allowingAllow: false)
        }
        guard let defaultAction else {
            throw field.errorAtKey(
                "missing required key 'default_action' (the OCI file gives no defaultAction)",
                field: field.path + ".default_action")
        }

        if let list = seccomp.optional("allow") {
            for item in try list.sequence() {
                let name = try syscallName(item)
                if SeccompPolicy.forbidden.contains(name) {
                    throw item.error("'\(name)' is forbidden: no profile may allow it (the filter always kills it)")
                }
                allowed.insert(name)
            }
        }

        if let map = seccomp.optional("overrides") {
            for entry in try map.mapping(allowedKeys: nil).entries {
                let keyField = YAMLField(node: entry.value.node, path: entry.value.path, file: field.file, keyMark: entry.keyMark)
                let name = try checkedSyscallName(entry.key, at: keyField)
                let action = try parseAction(entry.value, allowingAllow: true)
                if SeccompPolicy.forbidden.contains(name), action != .kill {
                    throw keyField.errorAtKey("'\(name)' is forbidden: the filter always kills it, it cannot be overridden")
                }
                // An override replaces whatever the OCI file or the allow list said about the name.
                if action == .allow {
                    overrides[name] = nil
                    allowed.insert(name)
                } else {
                    overrides[name] = action
                    allowed.remove(name)
                }
            }
        }

        // Denied names fall back to the default action, even if an override named them.
        if let list = seccomp.optional("deny") {
            for item in try list.sequence() {
                let name = try syscallName(item)
                allowed.remove(name)
                overrides[name] = nil
            }
        }

        let missing = essentialSyscalls.filter { !allowed.contains($0) }
        guard missing.isEmpty else {
            throw field.errorAtKey("the allow list must include \(missing.joined(separator: " and ")): without them no program can run")
        }
        return SeccompPolicy(
            defaultAction: defaultAction, allow: allowed.sorted(),
            overrides: overrides.keys.sorted().map { SyscallOverride(name: $0, action: overrides[$0]!) },
            origin: origin)
    }

    /// `errno EPERM`, `errno ENOSYS`, `errno <1…4095>` or `kill` (and `allow`, for overrides).
    private static func parseAction(_ field: YAMLField, allowingAllow: Bool) throws(ProfileError) -> SeccompPolicy.Action {
        let text = try field.string()
        let words = text.split(separator: " ")
        switch (words.first, words.count) {
        case ("kill", 1): return .kill
        case ("allow", 1) where allowingAllow: return .allow
        case ("errno", 2):
            switch words[1] {
            case "EPERM": return .errno(1)
            case "ENOSYS": return .errno(38)
            default:
                // 0 would turn a refusal into a fake success.
                if let number = Quantity.count(String(words[1])), (1...4095).contains(number) {
                    return .errno(Int32(number))
                }
            }
        default: break
        }
        let choices = allowingAllow ? "'allow', 'kill', 'errno EPERM', 'errno ENOSYS' or 'errno <1-4095>'"
            : "'kill', 'errno EPERM', 'errno ENOSYS' or 'errno <1-4095>'"
        throw field.error("'\(text)' is not an action (expected \(choices))")
    }

    private static func syscallName(_ field: YAMLField) throws(ProfileError) -> String {
        try checkedSyscallName(field.string(), at: field)
    }

    private static func checkedSyscallName(_ name: String, at field: YAMLField) throws(ProfileError) -> String {
        guard OCISeccompFile.isNativeSyscall(name) else {
            throw field.errorAtKey("'\(name)' is not a syscall on this architecture")
        }
        return name
    }
}
