import Testing
@testable import ControlPlane

/// `inputs` against `config.required_inputs`: each missing or mistyped input is one located issue.
@Suite struct ExecutionInputsTests {
    private let config: JSONValue = [
        "required_inputs": [
            ["name": "text", "type": "text", "required": true],
            ["name": "limit", "type": "integer", "required": false],
            ["name": "strict", "type": "boolean", "required": false],
            ["name": "tags", "type": "array", "required": true],
        ],
    ]

    private func issues(_ inputs: JSONValue) -> [String] {
        ExecutionInputs.issues(inputs.objectValue ?? [:], config: config).map { issue in
            issue.loc.map { if case .key(let k) = $0 { k } else { "?" } }.joined(separator: ".") + " " + issue.type + ": " + issue.msg
        }
    }

    @Test func completeInputsPassAndUndeclaredOnesAreKept() {
        #expect(issues(["text": "hello", "tags": [], "limit": 3, "extra": ["anything"]]) == [])
        #expect(issues(["text": "hello", "tags": ["a"], "limit": nil]) == [])  // optional and null is fine
    }

    @Test func aMissingRequiredInputIsNamed() {
        #expect(issues(["tags": []]) == [#"body.inputs.text missing: Input "text" is required"#])
        #expect(issues(["text": nil, "tags": []]) == [#"body.inputs.text missing: Input "text" is required"#])
        #expect(issues([:]).count == 2)
    }

    @Test func aMistypedInputIsNamed() {
        #expect(issues(["text": 5, "tags": "a", "limit": 2.5, "strict": "yes"]) == [
            #"body.inputs.text text_type: Input "text" should be a string"#,
            #"body.inputs.limit integer_type: Input "limit" should be an integer"#,
            #"body.inputs.strict boolean_type: Input "strict" should be a boolean"#,
            #"body.inputs.tags array_type: Input "tags" should be a list"#,
        ])
    }

    @Test func anAgentWithoutDeclaredInputsTakesAnything() {
        #expect(ExecutionInputs.issues(["x": 1], config: ["model": "m"]).isEmpty)
    }
}
