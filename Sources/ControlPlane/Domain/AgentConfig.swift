/// The agent's `config` object of the API contract, validated and normalized: only the known
/// fields are kept (unknown ones are ignored, as everywhere in the API).
enum AgentConfig {
    enum InputType: String, CaseIterable {
        // `text` is the plan's own example ("type": "text"); it is a string input.
        case string, text, number, integer, boolean, object, array
    }

    /// Reads `config` at the validator's current object; nil when any field is invalid.
    static func read(_ v: inout BodyValidator) -> JSONValue? {
        let model = v.string("model", minLength: 1, maxLength: 100)
        let temperature = v.double("temperature", min: 0, max: 2)
        let maxTokens = v.int("max_tokens", min: 100, max: 32_000)
        let timeout = v.int("timeout_seconds", min: 10, max: 300)
        let inputs = v.list("required_inputs", maxItems: 50) { input -> JSONValue? in
            let name = input.string("name", minLength: 1, maxLength: 64)
            if let name, !name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) {
                input.fail("name", "Input names may contain only letters, digits, '-' and '_'")
            }
            let type = input.optionalEnumeration("type", InputType.self).value ?? .string
            let required = input.optionalBool("required").value ?? true
            guard let name, input.issues.isEmpty else { return nil }
            return ["name": .string(name), "type": .string(type.rawValue), "required": .bool(required)]
        }
        if let inputs {
            let names = inputs.compactMap { $0["name"]?.stringValue }
            if Set(names).count != names.count { v.fail("required_inputs", "Input names must be unique") }
        }
        let outputSchema = v.optionalRaw("output_schema")
        if case .value(let schema) = outputSchema, schema.objectValue == nil {
            v.add([.key("output_schema")], msg: "Input should be a valid dictionary", type: "dict_type")
        }
        guard v.issues.isEmpty, let model, let temperature, let maxTokens, let timeout, let inputs else { return nil }
        return [
            "model": .string(model), "temperature": .number(JSONNumber(temperature)),
            "max_tokens": .number(JSONNumber(maxTokens)), "timeout_seconds": .number(JSONNumber(timeout)),
            "required_inputs": .array(inputs), "output_schema": outputSchema.value ?? .object(JSONObject()),
        ]
    }
}

/// The field rules of an agent, shared by create (all required) and update (all optional).
enum AgentFields {
    static let name = (min: 3, max: 100)
    static let description = (min: 10, max: 500)
    static let longDescriptionMax = 5_000
    static let tags = (minItems: 1, maxItems: 10, itemMax: 50)
    static let listItems = (maxItems: 50, itemMax: 300)
    static let priceMilli = (min: Int64(1_000), max: Int64(10_000_000))
}
