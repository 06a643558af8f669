import CSandbox
import Glibc

/// A syscall policy read from an OCI / Docker-format seccomp JSON file (the format of moby's
/// `profiles/seccomp/default.json`), reduced to what this engine enforces.
///
/// Docker's files are written for a runtime that keeps some capabilities and evaluates
/// argument conditions per rule. Here every capability is dropped and argument checks live
/// in the engine's fixed guard filter, so the reduction is:
/// - entries that need a capability (`includes.caps`) are skipped: the calls would fail anyway;
/// - entries for another architecture or kernel (`includes`/`excludes` `arches`, `minKernel`)
///   are skipped, as Docker itself does;
/// - entries with `args` are skipped, except allow entries for the calls the guard filter
///   already restricts by argument (clone, personality, socket), which become plain allows;
/// - names this architecture does not have are skipped, since Docker lists every arch's calls;
/// - names in `SeccompPolicy.forbidden` are dropped: the filter always kills them.
/// Every skip that changes what a program may do is recorded in `warnings`.
public struct OCISeccompFile: Sendable, Equatable {
    /// The file, as given (used as the policy's `origin`).
    public var path: String
    /// `defaultAction`, when the file has one.
    public var defaultAction: SeccompPolicy.Action?
    /// Allowed names, sorted, unique, native and not forbidden.
    public var allow: [String]
    /// Errno and kill rules, sorted by name. A name with such a rule is not in `allow`.
    public var overrides: [SyscallOverride]
    public var warnings: [String]

    public init(
        path: String, defaultAction: SeccompPolicy.Action?, allow: [String], overrides: [SyscallOverride],
        warnings: [String] = []
    ) {
        self.path = path
        self.defaultAction = defaultAction
        self.allow = allow
        self.overrides = overrides
        self.warnings = warnings
    }

    public static func load(path: String, kernel: KernelVersion = .running) throws(ProfileError) -> OCISeccompFile {
        try parse(json: ProfileLoader.readText(at: path), path: path, kernel: kernel)
    }

    /// Parses the JSON text. `kernel` decides `minKernel` conditions (the running kernel by default).
    public static func parse(json: String, path: String, kernel: KernelVersion = .running) throws(ProfileError)
        -> OCISeccompFile
    {
        // JSON is read with the YAML composer (JSON is valid YAML flow syntax): one reader,
        // and every error gets a line number for free.
        var reader = Reader(path: path, kernel: kernel)
        try reader.read(composeDocument(json, file: path))
        return reader.result()
    }

    // MARK: - the running system

    /// A kernel release, compared by major, minor and patch (`6.1`, `4.8`, `6.18.44-fc`).
    public struct KernelVersion: Sendable, Equatable, Comparable, CustomStringConvertible {
        public var major: Int
        public var minor: Int
        public var patch: Int

        public init(major: Int, minor: Int, patch: Int = 0) {
            self.major = major
            self.minor = minor
            self.patch = patch
        }

        /// Parses the leading `MAJOR.MINOR[.PATCH]`; anything after (`-fc-v1045`) is ignored.
        public init?(_ text: String) {
            let numeric = text.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            let parts = numeric.split(separator: ".", omittingEmptySubsequences: false).map { Int($0) }
            guard (1...3).contains(parts.count), let major = parts[0] else { return nil }
            let rest = parts.dropFirst().map { $0 ?? -1 }
            guard !rest.contains(-1) else { return nil }
            self.init(major: major, minor: rest.first ?? 0, patch: rest.dropFirst().first ?? 0)
        }

        /// The kernel this process runs on (uname).
        public static var running: KernelVersion {
            var names = utsname()
            guard uname(&names) == 0 else { return KernelVersion(major: 0, minor: 0) }
            let release = withUnsafeBytes(of: names.release) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            return KernelVersion(release) ?? KernelVersion(major: 0, minor: 0)
        }

        public static func < (lhs: KernelVersion, rhs: KernelVersion) -> Bool {
            (lhs.major, lhs.minor, lhs.patch) < (rhs.major, rhs.minor, rhs.patch)
        }

        public var description: String { "\(major).\(minor).\(patch)" }
    }

    /// The names OCI files use for this architecture: Go's (`includes.arches`), the
    /// kernel's, and libseccomp's (`architectures`, `archMap`).
    #if arch(x86_64)
    static let nativeArchitectureNames: Set<String> = ["amd64", "x86_64", "SCMP_ARCH_X86_64"]
    static let nativeSeccompArchitecture = "SCMP_ARCH_X86_64"
    #elseif arch(arm64)
    static let nativeArchitectureNames: Set<String> = ["arm64", "aarch64", "SCMP_ARCH_AARCH64"]
    static let nativeSeccompArchitecture = "SCMP_ARCH_AARCH64"
    #else
    #error("OCI architecture names are only known for x86_64 and arm64")
    #endif

    /// Calls whose arguments `sbx_guard_filter` checks on its own (namespace flags for clone,
    /// only the default persona, no vsock/packet/raw sockets), so an OCI rule that allows
    /// them under argument conditions can be taken as a plain allow.
    static let guardedByArguments: Set<String> = ["clone", "personality", "socket"]

    /// Whether this architecture has a syscall of that name (libseccomp's table).
    static func isNativeSyscall(_ name: String) -> Bool {
        // A NUL or odd byte would be cut or misread on the way to C; real names are [a-z0-9_].
        guard !name.isEmpty, name.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5f })
        else { return false }
        return sbx_syscall_number(name) >= 0
    }
}

// MARK: - reading the document

extension OCISeccompFile {
    private struct Reader {
        let path: String
        let kernel: KernelVersion
        var defaultAction: SeccompPolicy.Action?
        var allowed: Set<String> = []
        var overrides: [String: SeccompPolicy.Action] = [:]
        var warnings: [String] = []
        // Notes per kind, joined into one warning each: Docker's own file would otherwise
        // produce a screenful on every reload.
        var forbiddenDrops: [String] = []
        var argumentSkips: [String] = []
        var argumentsLeftToGuard: [String] = []
        var capabilitySkips: [String] = []

        init(path: String, kernel: KernelVersion) {
            self.path = path
            self.kernel = kernel
        }

        private static let topLevelKeys: Set<String> = [
            "defaultAction", "defaultErrnoRet", "architectures", "archMap", "syscalls", "flags",
            "listenerPath", "listenerMetadata", "comment",
        ]
        private static let entryKeys: Set<String> = [
            "names", "name", "action", "errnoRet", "args", "includes", "excludes", "comment",
        ]
        private static let filterKeys = ["caps", "arches", "minKernel"]

        mutating func read(_ root: YAMLField) throws(ProfileError) {
            let document = try root.mapping(allowedKeys: nil)
            warnUnknownKeys(document, known: Self.topLevelKeys)

            var defaultErrno: Int32 = 1
            if let field = document.optional("defaultErrnoRet"), !field.isEmptyScalar {
                defaultErrno = try errnoValue(field)
            }
            if let field = document.optional("defaultAction") {
                let action = try parseAction(field, errno: defaultErrno)
                guard action != .allow else {
                    throw field.error("an allow-by-default policy is not supported: profiles are allow-lists (use SCMP_ACT_ERRNO or SCMP_ACT_KILL_PROCESS)")
                }
                defaultAction = action
            }
            if let field = document.optional("architectures"), !field.isEmptyScalar {
                let names = try field.sequence().map { (item) throws(ProfileError) in try item.string() }
                if !names.isEmpty, !names.contains(where: OCISeccompFile.nativeArchitectureNames.contains) {
                    throw field.error("does not include this machine's architecture (\(OCISeccompFile.nativeSeccompArchitecture))")
                }
            }
            if let field = document.optional("archMap"), !field.isEmptyScalar {
                var native = false
                let items = try field.sequence()
                for item in items {
                    let entry = try item.mapping(allowedKeys: nil)
                    let name = try entry.required("architecture").string()
                    native = native || OCISeccompFile.nativeArchitectureNames.contains(name)
                }
                if !items.isEmpty, !native {
                    throw field.error("does not include this machine's architecture (\(OCISeccompFile.nativeSeccompArchitecture))")
                }
            }
            if let field = document.optional("syscalls"), !field.isEmptyScalar {
                for entry in try field.sequence() { try readEntry(entry) }
            }
            func note(_ items: [String], _ text: String) {
                if !items.isEmpty { warnings.append("\(path): \(text): \(items.joined(separator: "; "))") }
            }
            note(forbiddenDrops, "dropped forbidden syscalls (the filter always kills them)")
            note(argumentSkips, "skipped rules with argument conditions (not supported)")
            note(argumentsLeftToGuard, "allowed without the file's argument conditions, which the engine's guard filter checks itself")
            note(capabilitySkips, "skipped rules that need capabilities (the sandbox drops them all)")
        }

        private mutating func readEntry(_ field: YAMLField) throws(ProfileError) {
            let entry = try field.mapping(allowedKeys: nil)
            warnUnknownKeys(entry, known: Self.entryKeys)

            var names: [String] = []
            if let list = entry.optional("names") {
                names = try list.sequence().map { (item) throws(ProfileError) in try item.string() }
            }
            if let single = entry.optional("name") { names.append(try single.string()) }
            guard entry.optional("names") != nil || entry.optional("name") != nil else {
                throw field.errorAtKey("missing required key 'names'", field: field.path + ".names")
            }
            var errnoRet: Int32 = 1
            if let errnoField = entry.optional("errnoRet"), !errnoField.isEmptyScalar {
                errnoRet = try errnoValue(errnoField)
            }
            // Parsed before any skip so that a typo in a skipped entry still fails the load.
            let actionField = try entry.required("action")
            let action = try parseAction(actionField, errno: errnoRet)
            let includes = try filter(entry.optional("includes"))
            let excludes = try filter(entry.optional("excludes"))
            let hasArguments = try entry.optional("args").map { (args) throws(ProfileError) in
                args.isEmptyScalar ? false : try !args.sequence().isEmpty
            } ?? false

            let label = "\(field.path) \(names.joined(separator: ", "))"
            if let arches = includes.arches, !arches.isEmpty,
               !arches.contains(where: OCISeccompFile.nativeArchitectureNames.contains) { return }
            if let arches = excludes.arches, arches.contains(where: OCISeccompFile.nativeArchitectureNames.contains) {
                return
            }
            if let minimum = includes.minKernel, kernel < minimum { return }
            if let minimum = excludes.minKernel, kernel >= minimum { return }
            // `excludes.caps` means "unless the process has these": it never has any here.
            if let caps = includes.caps, !caps.isEmpty {
                capabilitySkips.append("\(label) [\(caps.joined(separator: ", "))]")
                return
            }

            // Names of other architectures are routine in Docker's files: nothing to report.
            let native = names.filter(OCISeccompFile.isNativeSyscall)
            guard !native.isEmpty else { return }
            if hasArguments {
                guard action == .allow, native.allSatisfy(OCISeccompFile.guardedByArguments.contains)
                else {
                    argumentSkips.append(label)
                    return
                }
                argumentsLeftToGuard.append(label)
            }

            let forbidden = native.filter(SeccompPolicy.forbidden.contains)
            if !forbidden.isEmpty, action != .kill {
                forbiddenDrops.append("\(field.path) \(forbidden.joined(separator: ", "))")
            }
            for name in native where !SeccompPolicy.forbidden.contains(name) {
                if action == .allow {
                    // A refusing rule wins over an allow, whatever the order in the file.
                    if overrides[name] == nil { allowed.insert(name) }
                } else {
                    overrides[name] = action
                    allowed.remove(name)
                }
            }
        }

        /// The engine's action for an `SCMP_ACT_*` name.
        private func parseAction(_ field: YAMLField, errno: Int32) throws(ProfileError) -> SeccompPolicy.Action {
            switch try field.string() {
            case "SCMP_ACT_ALLOW", "SCMP_ACT_LOG": return .allow
            case "SCMP_ACT_ERRNO": return .errno(errno)
            case "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP": return .kill
            case let other:
                throw field.error("unsupported action '\(other)' (expected SCMP_ACT_ALLOW, SCMP_ACT_LOG, SCMP_ACT_ERRNO, SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD or SCMP_ACT_TRAP)")
            }
        }

        private func errnoValue(_ field: YAMLField) throws(ProfileError) -> Int32 {
            let value = try field.integer()
            // 0 would make a refused call report success; above 4095 is not an errno.
            guard (1...4095).contains(value) else { throw field.error("must be an errno between 1 and 4095") }
            return Int32(value)
        }

        private struct Filter {
            var caps: [String]?
            var arches: [String]?
            var minKernel: KernelVersion?
        }

        private func filter(_ field: YAMLField?) throws(ProfileError) -> Filter {
            guard let field, !field.isEmptyScalar else { return Filter() }
            let mapping = try field.mapping(allowedKeys: Self.filterKeys)
            func strings(_ key: String) throws(ProfileError) -> [String]? {
                guard let list = mapping.optional(key), !list.isEmptyScalar else { return nil }
                return try list.sequence().map { (item) throws(ProfileError) in try item.string() }
            }
            var result = Filter(caps: try strings("caps"), arches: try strings("arches"))
            if let versionField = mapping.optional("minKernel"), !versionField.isEmptyScalar {
                let text = try versionField.string()
                guard let version = KernelVersion(text) else {
                    throw versionField.error("'\(text)' is not a kernel version like 4.8")
                }
                result.minKernel = version
            }
            return result
        }

        private mutating func warnUnknownKeys(_ mapping: YAMLMapping, known: Set<String>) {
            for entry in mapping.entries where !known.contains(entry.key) {
                let line = entry.keyMark.map { ":\($0.line)" } ?? ""
                warnings.append("\(path)\(line): \(entry.value.path): unknown key ignored")
            }
        }

        func result() -> OCISeccompFile {
            OCISeccompFile(
                path: path, defaultAction: defaultAction, allow: allowed.sorted(),
                overrides: overrides.keys.sorted().map { SyscallOverride(name: $0, action: overrides[$0]!) },
                warnings: warnings)
        }
    }
}
