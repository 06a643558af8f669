import Foundation
@testable import ControlPlane

/// A JSON Schema (2020-12) validator for the subset the OpenAPI document uses: `type` (a name
/// or an array of names, `null` included), `enum`, `const`, `properties`, `required`,
/// `additionalProperties`, `items`, `minItems`/`maxItems`, `minimum`/`maximum`,
/// `exclusiveMinimum`/`exclusiveMaximum`, `multipleOf` (exact, on the decimal literal),
/// `minLength`/`maxLength` (in Unicode code points), `pattern`, `format` (uuid, date-time,
/// email), `anyOf`/`oneOf`/`allOf`, and `$ref` into the same document (`#/...` JSON pointers).
/// A keyword it does not know is an error, so the subset cannot silently grow past it.
struct SchemaValidator: Sendable {
    /// The document `$ref`s resolve against.
    let root: JSONValue

    static let annotations: Set<String> = ["description", "default", "title", "examples", "summary", "readOnly", "writeOnly", "deprecated"]
    static let keywords: Set<String> = [
        "type", "enum", "const", "properties", "required", "additionalProperties", "items", "minItems", "maxItems",
        "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minLength", "maxLength", "pattern",
        "format", "anyOf", "oneOf", "allOf", "$ref",
    ]

    /// Every way `instance` breaks `schema`, each as "path: problem"; empty when it conforms.
    func errors(_ instance: JSONValue, _ schema: JSONValue, at path: String = "$") -> [String] {
        var out: [String] = []
        validate(instance, schema, path, depth: 0, into: &out)
        return out
    }

    /// The value a `#/a/b` pointer names, nil when it does not resolve.
    func resolve(_ reference: String) -> JSONValue? {
        if reference == "#" { return root }
        guard reference.hasPrefix("#/") else { return nil }
        var current = root
        for token in reference.dropFirst(2).split(separator: "/", omittingEmptySubsequences: false) {
            let key = token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            if let object = current.objectValue, let next = object[key] {
                current = next
            } else if let array = current.arrayValue, let index = Int(key), array.indices.contains(index) {
                current = array[index]
            } else {
                return nil
            }
        }
        return current
    }

    private func validate(_ instance: JSONValue, _ schema: JSONValue, _ path: String, depth: Int, into out: inout [String]) {
        guard depth < 64 else { out.append("\(path): $ref nesting too deep"); return }
        if case .bool(let allowed) = schema {
            if !allowed { out.append("\(path): no value is allowed here") }
            return
        }
        guard let s = schema.objectValue else { out.append("\(path): schema is not an object: \(schema.serializedString())"); return }
        for key in s.keys where !Self.keywords.contains(key) && !Self.annotations.contains(key) {
            out.append("\(path): schema keyword '\(key)' is not supported by SchemaValidator")
        }

        if let reference = s["$ref"]?.stringValue {
            guard let target = resolve(reference) else { out.append("\(path): $ref \(reference) does not resolve"); return }
            validate(instance, target, path, depth: depth + 1, into: &out)
        }

        if let type = s["type"] {
            let names = type.arrayValue?.compactMap(\.stringValue) ?? [type.stringValue ?? "?"]
            if !names.contains(where: { Self.has(instance, type: $0) }) {
                out.append("\(path): expected \(names.joined(separator: " or ")), got \(instance.serializedString().prefix(80))")
                return
            }
        }
        if let values = s["enum"]?.arrayValue, !values.contains(instance) {
            out.append("\(path): \(instance.serializedString().prefix(80)) is not one of \(JSONValue.array(values).serializedString())")
        }
        if let value = s["const"], value != instance {
            out.append("\(path): expected \(value.serializedString())")
        }

        for keyword in ["allOf", "anyOf", "oneOf"] {
            guard let branches = s[keyword]?.arrayValue else { continue }
            let results = branches.map { errors(instance, $0, at: path) }
            let passing = results.filter(\.isEmpty).count
            switch keyword {
            case "allOf": out += results.flatMap { $0 }
            case "anyOf": if passing == 0 { out.append("\(path): matches no anyOf branch: \(results.flatMap { $0 })") }
            default: if passing != 1 { out.append("\(path): matches \(passing) oneOf branches, not exactly 1") }
            }
        }

        switch instance {
        case .object(let object): validateObject(object, s, path, depth: depth, into: &out)
        case .array(let items): validateArray(items, s, path, depth: depth, into: &out)
        case .string(let string): validateString(string, s, path, into: &out)
        case .number(let number): validateNumber(number, s, path, into: &out)
        case .bool, .null: break
        }
    }

    private func validateObject(_ object: JSONObject, _ s: JSONObject, _ path: String, depth: Int, into out: inout [String]) {
        for name in s["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where object[name] == nil {
            out.append("\(path): required member '\(name)' is missing")
        }
        let properties = s["properties"]?.objectValue ?? [:]
        for (key, value) in object {
            if let schema = properties[key] {
                validate(value, schema, "\(path).\(key)", depth: depth + 1, into: &out)
            } else if let extra = s["additionalProperties"] {
                validate(value, extra, "\(path).\(key)", depth: depth + 1, into: &out)
            }
        }
    }

    private func validateArray(_ items: [JSONValue], _ s: JSONObject, _ path: String, depth: Int, into out: inout [String]) {
        if let min = s["minItems"]?.numberValue?.int64, items.count < min { out.append("\(path): fewer than \(min) items") }
        if let max = s["maxItems"]?.numberValue?.int64, items.count > max { out.append("\(path): more than \(max) items") }
        if let schema = s["items"] {
            for (i, item) in items.enumerated() { validate(item, schema, "\(path)[\(i)]", depth: depth + 1, into: &out) }
        }
    }

    private func validateString(_ string: String, _ s: JSONObject, _ path: String, into out: inout [String]) {
        let length = string.unicodeScalars.count
        if let min = s["minLength"]?.numberValue?.int64, length < min { out.append("\(path): shorter than \(min)") }
        if let max = s["maxLength"]?.numberValue?.int64, length > max { out.append("\(path): longer than \(max)") }
        if let pattern = s["pattern"]?.stringValue {
            if let regex = try? NSRegularExpression(pattern: pattern) {
                let range = NSRange(string.startIndex..., in: string)
                if regex.firstMatch(in: string, range: range) == nil { out.append("\(path): '\(string)' does not match \(pattern)") }
            } else {
                out.append("\(path): pattern \(pattern) does not compile")
            }
        }
        if let format = s["format"]?.stringValue, let problem = Self.formatProblem(string, format) {
            out.append("\(path): '\(string.prefix(80))' is not a valid \(format): \(problem)")
        }
    }

    private func validateNumber(_ number: JSONNumber, _ s: JSONObject, _ path: String, into out: inout [String]) {
        guard let value = number.double else { out.append("\(path): not a finite number"); return }
        func bound(_ key: String) -> Double? { s[key]?.numberValue?.double }
        if let min = bound("minimum"), value < min { out.append("\(path): \(number) < minimum \(min)") }
        if let max = bound("maximum"), value > max { out.append("\(path): \(number) > maximum \(max)") }
        if let min = bound("exclusiveMinimum"), value <= min { out.append("\(path): \(number) <= exclusiveMinimum \(min)") }
        if let max = bound("exclusiveMaximum"), value >= max { out.append("\(path): \(number) >= exclusiveMaximum \(max)") }
        if let step = s["multipleOf"]?.numberValue, !Self.isMultiple(number, of: step) {
            out.append("\(path): \(number) is not a multiple of \(step)")
        }
    }

    // MARK: Vocabulary

    static func has(_ instance: JSONValue, type: String) -> Bool {
        switch (type, instance) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object), ("number", .number):
            true
        case ("integer", .number(let n)):
            n.scaled(decimals: 0) != nil || (n.double.map { $0 == $0.rounded() } ?? false)
        default:
            false
        }
    }

    /// Exact decimal divisibility: both scaled to the places of the finer one.
    static func isMultiple(_ number: JSONNumber, of step: JSONNumber) -> Bool {
        let places = max(number.decimalPlaces(), step.decimalPlaces())
        guard places <= 18, let n = number.scaled(decimals: places), let d = step.scaled(decimals: places), d != 0 else {
            return false
        }
        return n % d == 0
    }

    static func formatProblem(_ string: String, _ format: String) -> String? {
        switch format {
        case "uuid":
            return string.range(of: #"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"#,
                                options: .regularExpression) == nil ? "not 8-4-4-4-12 hex" : nil
        case "date-time":
            return string.range(of: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"#,
                                options: .regularExpression) == nil ? "not RFC 3339" : nil
        case "email":
            return EmailAddress.problem(with: string)
        default:
            return "format '\(format)' is not supported by SchemaValidator"
        }
    }
}
