/// Why a profile (or the OCI seccomp file it names) was rejected, pointing at the exact place.
///
/// Operators edit profiles by hand and reload them into a running runner, so the message
/// must be enough to fix the file without reading code: which file, which line, which field.
public struct ProfileError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file the problem is in (the profile, or the OCI seccomp JSON it references).
    public var file: String
    /// 1-based line in `file`, when known.
    public var line: Int?
    /// 1-based column (in Unicode scalars), when known.
    public var column: Int?
    /// Dotted path of the field, e.g. `limits.memory.default` or `filesystem.read_only[2].source`
    /// (sequence indexes count from 0). Empty when the problem is the file as a whole.
    public var field: String
    public var message: String

    public init(file: String, line: Int? = nil, column: Int? = nil, field: String = "", message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        self.message = message
    }

    /// `FILE:LINE:COL: FIELD: MESSAGE`, the shape compilers use, so editors can jump to it.
    public var description: String {
        var text = file
        if let line {
            text += ":\(line)"
            if let column { text += ":\(column)" }
        }
        text += ": "
        if !field.isEmpty { text += field + ": " }
        return text + message
    }
}
