import JSONCore

/// The fields of one JSON object of a frame, read with errors that name the field: a missing
/// or mistyped field is a protocol error, which closes the connection.
struct WireFields {
    let object: JSONObject
    /// Where this object sits in the message, for errors ("record." for the run record).
    let path: String

    init(_ value: JSONValue, path: String = "") throws(ProtocolError) {
        guard case .object(let object) = value else {
            throw ProtocolError("malformed message: wrong type" + (path.isEmpty ? "" : " at " + String(path.dropLast())))
        }
        self.object = object
        self.path = path
    }

    private func missing(_ key: String) -> ProtocolError { ProtocolError("malformed message: missing \(key)" + at(nil)) }
    private func wrongType(_ key: String) -> ProtocolError { ProtocolError("malformed message: wrong type" + at(key)) }
    private func at(_ key: String?) -> String {
        let full = path + (key ?? "")
        return full.isEmpty ? "" : " at " + (key == nil ? String(full.dropLast()) : full)
    }

    /// The value, nil when absent or null.
    private func value(_ key: String) -> JSONValue? {
        guard let value = object[key], value != .null else { return nil }
        return value
    }

    /// The value at `key` as `read` takes it: missing when absent or null, mistyped when `read` refuses it.
    private func required<T>(_ key: String, _ read: (JSONValue) -> T?) throws(ProtocolError) -> T {
        guard let value = value(key) else { throw missing(key) }
        guard let typed = read(value) else { throw wrongType(key) }
        return typed
    }

    /// nil when absent or null, else what `read` makes of the key (which may still refuse it).
    private func optional<T>(_ key: String, _ read: (String) throws(ProtocolError) -> T) throws(ProtocolError) -> T? {
        value(key) == nil ? nil : try read(key)
    }

    /// An array whose every element `read` takes.
    private func array<T>(_ key: String, _ read: (JSONValue) -> T?) throws(ProtocolError) -> [T] {
        let items = try required(key) { $0.arrayValue }
        var result: [T] = []
        result.reserveCapacity(items.count)
        for item in items {
            guard let typed = read(item) else { throw wrongType(key) }
            result.append(typed)
        }
        return result
    }

    private static func integer(_ value: JSONValue) -> Int64? {
        if case .number(let number) = value { return number.int64 }
        return nil
    }

    func string(_ key: String) throws(ProtocolError) -> String { try required(key) { $0.stringValue } }
    func optionalString(_ key: String) throws(ProtocolError) -> String? { try optional(key, string) }
    func int64(_ key: String) throws(ProtocolError) -> Int64 { try required(key, Self.integer) }
    func optionalInt64(_ key: String) throws(ProtocolError) -> Int64? { try optional(key, int64) }
    func int(_ key: String) throws(ProtocolError) -> Int { Int(try int64(key)) }

    func optionalInt32(_ key: String) throws(ProtocolError) -> Int32? {
        try optional(key) { (key: String) throws(ProtocolError) -> Int32 in try required(key) { Self.integer($0).flatMap { Int32(exactly: $0) } } }
    }

    func bool(_ key: String) throws(ProtocolError) -> Bool { try required(key) { $0.boolValue } }
    func optionalBool(_ key: String) throws(ProtocolError) -> Bool? { try optional(key, bool) }
    func strings(_ key: String) throws(ProtocolError) -> [String] { try array(key) { $0.stringValue } }
    func ints(_ key: String) throws(ProtocolError) -> [Int] { try array(key) { Self.integer($0).map { Int($0) } } }

    /// Base64 text (RFC 4648, padded) as bytes.
    func bytes(_ key: String) throws(ProtocolError) -> [UInt8] {
        let text = try string(key)
        guard let bytes = Base64.decode(text) else { throw ProtocolError("malformed message: not base64" + at(key)) }
        return bytes
    }

    func optionalBytes(_ key: String) throws(ProtocolError) -> [UInt8]? { try optional(key, bytes) }

    /// A nested object's fields.
    func object(_ key: String) throws(ProtocolError) -> WireFields {
        guard let value = value(key) else { throw missing(key) }
        return try WireFields(value, path: path + key + ".")
    }

    func optionalObject(_ key: String) throws(ProtocolError) -> WireFields? { try optional(key, object) }

    /// An array of objects, each read by `read`.
    func objects<T>(_ key: String, _ read: (WireFields) throws(ProtocolError) -> T) throws(ProtocolError) -> [T]? {
        guard let value = value(key) else { return nil }
        guard case .array(let items) = value else { throw wrongType(key) }
        var result: [T] = []
        for (index, item) in items.enumerated() { result.append(try read(try WireFields(item, path: path + key + "[\(index)]."))) }
        return result
    }
}

/// Optional values written as null (so every record has the same keys) or left out.
extension Optional where Wrapped == Int64 {
    var json: JSONValue { map { .number(JSONNumber($0)) } ?? .null }
}

extension Optional where Wrapped == Int32 {
    var json: JSONValue { map { .number(JSONNumber(Int64($0))) } ?? .null }
}

extension Optional where Wrapped == String {
    var json: JSONValue { map { .string($0) } ?? .null }
}
