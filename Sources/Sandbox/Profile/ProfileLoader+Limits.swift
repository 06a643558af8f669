/// The `limits:` section: every resource limit as `{default: X, max: Y}`.
extension ProfileLoader {
    /// How a limit's values are written and what the smallest sensible value is.
    private struct LimitUnit: Sendable {
        let parse: @Sendable (String) -> Int64?
        let expected: String
        let minimum: Int64
        let minimumText: String

        static let size = LimitUnit(
            parse: Quantity.bytes, expected: "a size like 64M, 512K, 1G or a number of bytes", minimum: 1, minimumText: "1")
        static let count = LimitUnit(parse: Quantity.count, expected: "a whole number", minimum: 1, minimumText: "1")
        static let cpus = LimitUnit(
            parse: Quantity.milliCPUs, expected: "a number of CPUs like 0.5, 1 or 2.25 (at most 3 decimals)",
            minimum: 1, minimumText: "0.001")
        static let duration = LimitUnit(
            parse: Quantity.milliseconds, expected: "a duration with a unit, like 500ms, 2s, 1.5s or 1m",
            minimum: 1, minimumText: "1ms")

        func atLeast(_ minimum: Int64, _ text: String) -> LimitUnit {
            LimitUnit(parse: parse, expected: expected, minimum: minimum, minimumText: text)
        }
    }

    private static let limitKeys = [
        "memory", "pids", "cpus", "cpu_time", "wall_time", "stdout", "stderr", "tmpfs", "open_files",
        "file_size", "stack",
    ]

    static func parseLimits(_ field: YAMLField) throws(ProfileError) -> LimitPolicy {
        let limits = try field.mapping(allowedKeys: limitKeys)
        func limit(_ key: String, _ unit: LimitUnit) throws(ProfileError) -> Bounded<Int64> {
            try bounded(limits.required(key), unit)
        }
        return LimitPolicy(
            // Below a few MiB the dynamic loader and libc alone fail; such a limit is a typo.
            memoryBytes: try limit("memory", .size.atLeast(4 << 20, "4M")),
            pids: try limit("pids", .count),
            milliCPUs: try limit("cpus", .cpus),
            cpuTimeMs: try limit("cpu_time", .duration),
            wallTimeMs: try limit("wall_time", .duration),
            stdoutBytes: try limit("stdout", .size),
            stderrBytes: try limit("stderr", .size),
            tmpfsBytes: try limit("tmpfs", .size),
            // stdin/stdout/stderr plus what libc and the loader open on their own.
            openFiles: try limit("open_files", .count.atLeast(8, "8")),
            fileSizeBytes: try limit("file_size", .size),
            stackBytes: try limit("stack", .size))
    }

    private static func bounded(_ field: YAMLField, _ unit: LimitUnit) throws(ProfileError) -> Bounded<Int64> {
        let pair = try field.mapping(allowedKeys: ["default", "max"])
        func value(_ key: String) throws(ProfileError) -> (value: Int64, text: String, field: YAMLField) {
            let valueField = try pair.required(key)
            let text = try valueField.string()
            guard let value = unit.parse(text) else {
                throw valueField.error("'\(text)' is not \(unit.expected)")
            }
            guard value >= unit.minimum else {
                let rule = unit.minimum == 1 ? "greater than 0" : "at least \(unit.minimumText)"
                throw valueField.error("must be \(rule), found '\(text)'")
            }
            return (value, text, valueField)
        }
        let defaultValue = try value("default")
        let ceiling = try value("max")
        guard defaultValue.value <= ceiling.value else {
            throw defaultValue.field.error("the default '\(defaultValue.text)' is above the max '\(ceiling.text)'")
        }
        return Bounded(defaultValue: defaultValue.value, ceiling: ceiling.value)
    }
}
