import Testing
@testable import ControlPlane

/// The output_schema subset: what it accepts, what it refuses to compile, what each rule catches.
@Suite struct OutputSchemaTests {
    private func schema(_ text: String) throws -> OutputSchema {
        try OutputSchema.compile(try JSONParser.parse(text))
    }

    private func violations(_ schemaText: String, _ document: String) throws -> [String] {
        try schema(schemaText).violations(of: try JSONParser.parse(document))
    }

    @Test func aConformingDocumentHasNoViolations() throws {
        let wordCount = #"""
            {"type": "object", "required": ["words", "top"], "additionalProperties": false,
             "properties": {"words": {"type": "integer", "minimum": 0},
                            "top": {"type": "array", "maxItems": 3, "items": {"type": "string", "minLength": 1}},
                            "note": {"type": ["string", "null"]}}}
            """#
        #expect(try violations(wordCount, #"{"words": 12, "top": ["a", "b"], "note": null}"#) == [])
        #expect(try violations(wordCount, #"{"words": 2.0, "top": []}"#) == [])  // 2.0 is an integer in JSON Schema
    }

    @Test func eachRuleNamesWhereAndWhat() throws {
        let wordCount = #"""
            {"type": "object", "required": ["words", "top"], "additionalProperties": false,
             "properties": {"words": {"type": "integer", "minimum": 0},
                            "top": {"type": "array", "maxItems": 1, "items": {"type": "string", "minLength": 2}}}}
            """#
        #expect(try violations(wordCount, #"[1]"#) == ["$: expected object, got array"])
        #expect(Set(try violations(wordCount, #"{"words": -1, "top": ["x", "yy"], "extra": 1}"#)) == [
            "$.words: -1 is below the minimum 0",
            "$.top: has 2 items, at most 1 allowed",
            "$.top[0]: is 1 characters, at least 2 required",
            "$: property \"extra\" is not allowed",
        ])
        let found = try violations(wordCount, #"{"words": 1.5, "extra": 1}"#)
        #expect(found.contains("$: missing required property \"top\""))
        #expect(found.contains("$.words: expected integer, got number"))
        #expect(found.contains("$: property \"extra\" is not allowed"))
        #expect(try violations(#"{"enum": ["ok", "retry"]}"#, #""fail""#) == [#"$: must be one of "ok", "retry""#])
        #expect(try violations(#"{"const": 3}"#, "3") == [])
        #expect(try violations(#"{"type": "number", "exclusiveMaximum": 1}"#, "1") == ["$: 1 must be below 1"])
        #expect(try violations(#"{"anyOf": [{"type": "string"}, {"type": "integer"}]}"#, "true") == ["$: matches none of the anyOf alternatives"])
        #expect(try violations(#"{"allOf": [{"minLength": 2}, {"maxLength": 3}]}"#, #""abcd""#) == ["$: is 4 characters, at most 3 allowed"])
        #expect(try violations("false", "{}") == ["$: no value is allowed here"])
        #expect(try violations("true", #"{"anything": [1, 2]}"#) == [])
        // Lengths count code points, not bytes: "héé" is 3.
        #expect(try violations(#"{"maxLength": 3}"#, #""héé""#) == [])
    }

    @Test func aHostileDocumentGetsABoundedReport() throws {
        let list = "[" + Array(repeating: "1", count: 10_000).joined(separator: ",") + "]"
        let found = try violations(#"{"type": "array", "items": {"type": "string"}}"#, list)
        #expect(found.count == 10)
    }

    @Test func aSchemaWeCannotEnforceIsRefused() {
        func refusal(_ text: String) -> String? {
            do { _ = try OutputSchema.compile(try JSONParser.parse(text)); return nil } catch let error as OutputSchema.SchemaError {
                return error.description
            } catch { return "\(error)" }
        }
        #expect(refusal(#"{"type": "string", "pattern": "^a"}"#) == "output_schema at $.pattern: the keyword pattern is not supported (see the README for the supported subset)")
        #expect(refusal(#"{"properties": {"a": {"type": "text"}}}"#) == #"output_schema at $.properties.a.type: unknown type "text""#)
        #expect(refusal(#"{"required": "a"}"#) == "output_schema at $.required: must be a list of property names")
        #expect(refusal(#"{"maxItems": -1}"#) == "output_schema at $.maxItems: must be a non-negative integer")
        #expect(refusal(#"{"anyOf": []}"#) == "output_schema at $.anyOf: must be a non-empty list of schemas")
        #expect(refusal("3") == "output_schema at $: a schema is an object or a boolean")
        #expect(refusal(#"{"title": "Counts", "description": "d", "$schema": "https://json-schema.org/draft/2020-12/schema"}"#) == nil)
    }
}
