/// An execution's `inputs` checked against the agent's `config.required_inputs`: every
/// required input present and not null, every declared input of its declared type. Inputs the
/// agent does not declare pass through untouched (the agent reads what it knows).
enum ExecutionInputs {
    /// The issues, located as `body.inputs.NAME`; empty when the inputs are acceptable.
    static func issues(_ inputs: JSONObject, config: JSONValue) -> [ValidationIssue] {
        var found: [ValidationIssue] = []
        for declared in config["required_inputs"]?.arrayValue ?? [] {
            guard let name = declared["name"]?.stringValue else { continue }
            let type = declared["type"]?.stringValue.flatMap(AgentConfig.InputType.init(rawValue:)) ?? .string
            let required = declared["required"]?.boolValue ?? true
            let loc: [LocItem] = ["body", "inputs", .key(name)]
            guard let value = inputs[name], !value.isNull else {
                if required { found.append(ValidationIssue(loc: loc, msg: "Input \(name.debugDescription) is required", type: "missing")) }
                continue
            }
            if let expected = mismatch(value, type) {
                found.append(ValidationIssue(loc: loc, msg: "Input \(name.debugDescription) should be \(expected)", type: "\(type.rawValue)_type"))
            }
        }
        return found
    }

    /// What `value` should have been, when it is not of `type`.
    private static func mismatch(_ value: JSONValue, _ type: AgentConfig.InputType) -> String? {
        switch (type, value) {
        case (.string, .string), (.text, .string), (.number, .number), (.boolean, .bool), (.object, .object), (.array, .array):
            return nil
        case (.integer, .number(let number)) where number.int64 != nil:
            return nil
        case (.string, _), (.text, _): return "a string"
        case (.number, _): return "a number"
        case (.integer, _): return "an integer"
        case (.boolean, _): return "a boolean"
        case (.object, _): return "an object"
        case (.array, _): return "a list"
        }
    }
}
