/// The JSON Schema subset an agent's `output_schema` may use, compiled once (when the bundle
/// is uploaded, so a schema we cannot enforce is refused there) and applied to every run's
/// stdout. A keyword outside the subset is an error, never silently ignored: an author who
/// writes `pattern` must not believe it is checked.
///
/// Supported: `type` (one or a list of null, boolean, object, array, number, integer, string),
/// `enum`, `const`, `properties`, `required`, `additionalProperties` (boolean or schema),
/// `items`, `minItems`, `maxItems`, `minLength`, `maxLength` (in Unicode code points),
/// `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`, `anyOf`, `allOf`, and the
/// annotations `title`, `description`, `$schema`, `$comment`, `examples`, `default`.
indirect enum OutputSchema: Sendable, Equatable {
    case always
    case never
    case rules(Rules)

    struct Rules: Sendable, Equatable {
        var types: Set<Kind>?
        var allowed: [JSONValue]?
        var properties: [(String, OutputSchema)] = []
        var required: [String] = []
        var additionalProperties: OutputSchema = .always
        var items: OutputSchema?
        var minItems: Int?
        var maxItems: Int?
        var minLength: Int?
        var maxLength: Int?
        var minimum: Double?
        var maximum: Double?
        var exclusiveMinimum: Double?
        var exclusiveMaximum: Double?
        var anyOf: [OutputSchema]?
        var allOf: [OutputSchema]?

        static func == (lhs: Rules, rhs: Rules) -> Bool {
            lhs.types == rhs.types && lhs.allowed == rhs.allowed && lhs.required == rhs.required
                && lhs.properties.map(\.0) == rhs.properties.map(\.0) && lhs.properties.map(\.1) == rhs.properties.map(\.1)
                && lhs.additionalProperties == rhs.additionalProperties && lhs.items == rhs.items
                && lhs.minItems == rhs.minItems && lhs.maxItems == rhs.maxItems && lhs.minLength == rhs.minLength
                && lhs.maxLength == rhs.maxLength && lhs.minimum == rhs.minimum && lhs.maximum == rhs.maximum
                && lhs.exclusiveMinimum == rhs.exclusiveMinimum && lhs.exclusiveMaximum == rhs.exclusiveMaximum
                && lhs.anyOf == rhs.anyOf && lhs.allOf == rhs.allOf
        }
    }

    enum Kind: String, Sendable, CaseIterable {
        case null, boolean, object, array, number, integer, string
    }

    /// Why a schema cannot be used; `path` is where in the schema (`$.properties.count`).
    struct SchemaError: Error, Equatable, CustomStringConvertible {
        var path: String
        var problem: String
        var description: String { "output_schema at \(path): \(problem)" }
    }

    private static let annotations: Set<String> = ["title", "description", "$schema", "$comment", "examples", "default"]

    static func compile(_ schema: JSONValue, path: String = "$") throws(SchemaError) -> OutputSchema {
        switch schema {
        case .bool(let accept): return accept ? .always : .never
        case .object(let object): return .rules(try compileRules(object, path: path))
        default: throw SchemaError(path: path, problem: "a schema is an object or a boolean")
        }
    }

    private static func compileRules(_ object: JSONObject, path: String) throws(SchemaError) -> Rules {
        var rules = Rules()
        for (key, value) in object {
            let here = "\(path).\(key)"
            switch key {
            case "type":
                let names: [JSONValue] = value.arrayValue ?? [value]
                var kinds = Set<Kind>()
                for name in names {
                    guard let text = name.stringValue, let kind = Kind(rawValue: text) else {
                        throw SchemaError(path: here, problem: "unknown type \(name.serializedString())")
                    }
                    kinds.insert(kind)
                }
                guard !kinds.isEmpty else { throw SchemaError(path: here, problem: "names no type") }
                rules.types = kinds
            case "enum":
                guard let list = value.arrayValue, !list.isEmpty else { throw SchemaError(path: here, problem: "must be a non-empty list") }
                rules.allowed = list
            case "const":
                rules.allowed = [value]
            case "properties":
                guard let members = value.objectValue else { throw SchemaError(path: here, problem: "must be an object of schemas") }
                for (name, member) in members { rules.properties.append((name, try compile(member, path: "\(here).\(name)"))) }
            case "required":
                guard let list = value.arrayValue, list.allSatisfy({ $0.stringValue != nil }) else {
                    throw SchemaError(path: here, problem: "must be a list of property names")
                }
                rules.required = list.compactMap(\.stringValue)
            case "additionalProperties": rules.additionalProperties = try compile(value, path: here)
            case "items": rules.items = try compile(value, path: here)
            case "minItems": rules.minItems = try count(value, here)
            case "maxItems": rules.maxItems = try count(value, here)
            case "minLength": rules.minLength = try count(value, here)
            case "maxLength": rules.maxLength = try count(value, here)
            case "minimum": rules.minimum = try bound(value, here)
            case "maximum": rules.maximum = try bound(value, here)
            case "exclusiveMinimum": rules.exclusiveMinimum = try bound(value, here)
            case "exclusiveMaximum": rules.exclusiveMaximum = try bound(value, here)
            case "anyOf", "allOf":
                guard let list = value.arrayValue, !list.isEmpty else { throw SchemaError(path: here, problem: "must be a non-empty list of schemas") }
                var compiled: [OutputSchema] = []
                for (index, member) in list.enumerated() { compiled.append(try compile(member, path: "\(here)[\(index)]")) }
                if key == "anyOf" { rules.anyOf = compiled } else { rules.allOf = compiled }
            default:
                guard annotations.contains(key) else {
                    throw SchemaError(path: here, problem: "the keyword \(key) is not supported (see the README for the supported subset)")
                }
            }
        }
        return rules
    }

    private static func count(_ value: JSONValue, _ path: String) throws(SchemaError) -> Int {
        guard let number = value.numberValue?.int64, number >= 0, number <= Int64(Int32.max) else {
            throw SchemaError(path: path, problem: "must be a non-negative integer")
        }
        return Int(number)
    }

    private static func bound(_ value: JSONValue, _ path: String) throws(SchemaError) -> Double {
        guard let number = value.numberValue?.double, number.isFinite else { throw SchemaError(path: path, problem: "must be a number") }
        return number
    }

    // MARK: Checking a document

    /// Every way `value` breaks the schema, each as `path: problem` (empty when it conforms).
    /// Stops after `limit` findings so a hostile output cannot make the error message huge.
    func violations(of value: JSONValue, limit: Int = 10) -> [String] {
        var found: [String] = []
        check(value, path: "$", into: &found, limit: limit)
        return found
    }

    fileprivate func check(_ value: JSONValue, path: String, into found: inout [String], limit: Int) {
        guard found.count < limit else { return }
        switch self {
        case .always: return
        case .never: found.append("\(path): no value is allowed here")
        case .rules(let rules): rules.check(value, path: path, into: &found, limit: limit)
        }
    }

    fileprivate static func kind(of value: JSONValue) -> Kind {
        switch value {
        case .null: .null
        case .bool: .boolean
        case .object: .object
        case .array: .array
        case .string: .string
        case .number(let number): number.int64 != nil || (number.double.map { $0 == $0.rounded() } ?? false) ? .integer : .number
        }
    }
}

extension OutputSchema.Rules {
    fileprivate func check(_ value: JSONValue, path: String, into found: inout [String], limit: Int) {
        func fail(_ problem: String) { if found.count < limit { found.append("\(path): \(problem)") } }
        if let types {
            let kind = OutputSchema.kind(of: value)
            let matches = types.contains(kind) || (kind == .integer && types.contains(.number))
            if !matches {
                fail("expected \(types.map(\.rawValue).sorted().joined(separator: " or ")), got \(kind == .integer ? "number" : kind.rawValue)")
                return  // the other rules would only repeat the mismatch
            }
        }
        if let allowed, !allowed.contains(value) {
            fail("must be one of \(allowed.map { $0.serializedString() }.joined(separator: ", "))")
        }
        switch value {
        case .object(let object):
            for name in required where object[name] == nil { fail("missing required property \(name.debugDescription)") }
            for (name, member) in object {
                let schema = properties.first(where: { $0.0 == name })?.1 ?? additionalProperties
                if case .never = schema, properties.first(where: { $0.0 == name }) == nil {
                    fail("property \(name.debugDescription) is not allowed")
                } else {
                    schema.check(member, path: "\(path).\(name)", into: &found, limit: limit)
                }
            }
        case .array(let list):
            if let minItems, list.count < minItems { fail("has \(list.count) items, at least \(minItems) required") }
            if let maxItems, list.count > maxItems { fail("has \(list.count) items, at most \(maxItems) allowed") }
            if let items {
                for (index, item) in list.enumerated() { items.check(item, path: "\(path)[\(index)]", into: &found, limit: limit) }
            }
        case .string(let text):
            let length = text.unicodeScalars.count
            if let minLength, length < minLength { fail("is \(length) characters, at least \(minLength) required") }
            if let maxLength, length > maxLength { fail("is \(length) characters, at most \(maxLength) allowed") }
        case .number(let number):
            if let double = number.double {
                if let minimum, double < minimum { fail("\(number) is below the minimum \(JSONNumber(minimum))") }
                if let maximum, double > maximum { fail("\(number) is above the maximum \(JSONNumber(maximum))") }
                if let exclusiveMinimum, double <= exclusiveMinimum { fail("\(number) must be above \(JSONNumber(exclusiveMinimum))") }
                if let exclusiveMaximum, double >= exclusiveMaximum { fail("\(number) must be below \(JSONNumber(exclusiveMaximum))") }
            }
        default: break
        }
        if let allOf {
            for schema in allOf { schema.check(value, path: path, into: &found, limit: limit) }
        }
        if let anyOf, !anyOf.contains(where: { $0.violations(of: value, limit: 1).isEmpty }) {
            fail("matches none of the anyOf alternatives")
        }
    }
}
