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

    func string(_ key: String) throws(ProtocolError) -> String {
        guard let value = value(key) else { throw missing(key) }
        guard case .string(let text) = value else { throw wrongType(key) }
        return text
    }

    func optionalString(_ key: String) throws(ProtocolError) -> String? {
        guard value(key) != nil else { return nil }
        return try string(key)
    }

    func int64(_ key: String) throws(ProtocolError) -> Int64 {
        guard let value = value(key) else { throw missing(key) }
        guard case .number(let number) = value, let integer = number.int64 else { throw wrongType(key) }
        return integer
    }

    func optionalInt64(_ key: String) throws(ProtocolError) -> Int64? {
        guard value(key) != nil else { return nil }
        return try int64(key)
    }

    func int(_ key: String) throws(ProtocolError) -> Int {
        Int(try int64(key))
    }

    func optionalInt32(_ key: String) throws(ProtocolError) -> Int32? {
        guard let integer = try optionalInt64(key) else { return nil }
        guard let narrow = Int32(exactly: integer) else { throw wrongType(key) }
        return narrow
    }

    func bool(_ key: String) throws(ProtocolError) -> Bool {
        guard let value = value(key) else { throw missing(key) }
        guard case .bool(let flag) = value else { throw wrongType(key) }
        return flag
    }

    func optionalBool(_ key: String) throws(ProtocolError) -> Bool? {
        guard value(key) != nil else { return nil }
        return try bool(key)
    }

    func strings(_ key: String) throws(ProtocolError) -> [String] {
        guard let value = value(key) else { throw missing(key) }
        guard case .array(let items) = value else { throw wrongType(key) }
        var strings: [String] = []
        strings.reserveCapacity(items.count)
        for item in items {
            guard case .string(let text) = item else { throw wrongType(key) }
            strings.append(text)
        }
        return strings
    }

    func ints(_ key: String) throws(ProtocolError) -> [Int] {
        guard let value = value(key) else { throw missing(key) }
        guard case .array(let items) = value else { throw wrongType(key) }
        var ints: [Int] = []
        for item in items {
            guard case .number(let number) = item, let integer = number.int64 else { throw wrongType(key) }
            ints.append(Int(integer))
        }
        return ints
    }

    /// Base64 text (RFC 4648, padded) as bytes.
    func bytes(_ key: String) throws(ProtocolError) -> [UInt8] {
        let text = try string(key)
        guard let bytes = Base64.decode(text) else { throw ProtocolError("malformed message: not base64" + at(key)) }
        return bytes
    }

    func optionalBytes(_ key: String) throws(ProtocolError) -> [UInt8]? {
        guard value(key) != nil else { return nil }
        return try bytes(key)
    }

    /// A nested object's fields.
    func object(_ key: String) throws(ProtocolError) -> WireFields {
        guard let value = value(key) else { throw missing(key) }
        return try WireFields(value, path: path + key + ".")
    }

    func optionalObject(_ key: String) throws(ProtocolError) -> WireFields? {
        guard value(key) != nil else { return nil }
        return try object(key)
    }

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
