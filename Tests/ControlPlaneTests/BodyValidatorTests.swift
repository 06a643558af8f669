import Testing
@testable import ControlPlane

private enum Category: String, CaseIterable, Sendable {
    case content, research, analysis
}

private enum Single: String, CaseIterable { case only }
private enum Pair: String, CaseIterable { case a, b }

private func body(_ text: String) throws -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

private func issue(_ loc: [LocItem], _ msg: String, _ type: String) -> ValidationIssue {
    ValidationIssue(loc: loc, msg: msg, type: type)
}

/// Runs `read` against `text` and returns the issues it recorded.
private func issues(_ text: String, _ read: (inout BodyValidator) -> Void) throws -> [ValidationIssue] {
    var v = BodyValidator(try body(text))
    read(&v)
    return v.issues
}

@Suite struct BodyValidatorTests {
    // MARK: Body shape

    @Test(arguments: ["[]", "[1]", "\"x\"", "1", "null", "true"])
    func bodyNotAnObject(_ text: String) throws {
        var v = BodyValidator(try body(text))
        #expect(v.string("name") == nil)
        #expect(v.int("n") == nil)
        #expect(v.optionalString("x") == .absent)
        #expect(v.issues == [issue(["body"], "Input should be a valid dictionary or object to extract fields from", "model_attributes_type")])
        #expect(throws: ValidationFailure.self) { try v.finish() }
    }

    @Test func emptyObjectValidBodyFinishes() throws {
        var v = BodyValidator(try body("{}"))
        #expect(v.optionalString("x") == .absent)
        #expect(v.isValid)
        try v.finish()
    }

    // MARK: Required / optional / null

    @Test func missingRequiredFields() throws {
        let found = try issues("{}") { v in
            _ = v.string("name")
            _ = v.int("n")
            _ = v.double("d")
            _ = v.credits("c")
            _ = v.bool("b")
            _ = v.enumeration("e", Category.self)
            _ = v.stringList("l")
            _ = v.raw("r")
            _ = v.dictionary("o")
            _ = v.nested("x") { _ in 1 }
            _ = v.list("y") { _ in 1 }
            _ = v.email("m")
        }
        let keys = ["name", "n", "d", "c", "b", "e", "l", "r", "o", "x", "y", "m"]
        #expect(found == keys.map { issue(["body", .key($0)], "Field required", "missing") })
    }

    @Test func nullForARequiredFieldIsATypeError() throws {
        let found = try issues(#"{"s": null, "i": null, "d": null, "c": null, "b": null, "e": null, "l": null, "o": null, "x": null}"#) { v in
            _ = v.string("s")
            _ = v.int("i")
            _ = v.double("d")
            _ = v.credits("c")
            _ = v.bool("b")
            _ = v.enumeration("e", Category.self)
            _ = v.stringList("l")
            _ = v.dictionary("o")
            _ = v.nested("x") { _ in 1 }
        }
        #expect(found == [
            issue(["body", "s"], "Input should be a valid string", "string_type"),
            issue(["body", "i"], "Input should be a valid integer", "int_type"),
            issue(["body", "d"], "Input should be a valid number", "float_type"),
            issue(["body", "c"], "Input should be a valid number", "decimal_type"),
            issue(["body", "b"], "Input should be a valid boolean", "bool_type"),
            issue(["body", "e"], "Input should be 'content', 'research' or 'analysis'", "enum"),
            issue(["body", "l"], "Input should be a valid list", "list_type"),
            issue(["body", "o"], "Input should be a valid dictionary", "dict_type"),
            issue(["body", "x"], "Input should be a valid dictionary", "dict_type"),
        ])
    }

    @Test func rawAcceptsNullButNotAbsence() throws {
        var v = BodyValidator(try body(#"{"r": null, "s": {"type": "object"}}"#))
        #expect(v.raw("r") == .null)
        #expect(v.raw("s") == ["type": "object"])
        #expect(v.optionalRaw("r") == .null)
        #expect(v.optionalRaw("s") == .value(["type": "object"]))
        #expect(v.optionalRaw("absent") == .absent)
        #expect(v.isValid)
    }

    @Test func triStateField() throws {
        var v = BodyValidator(try body(#"{"bio": null, "full_name": "Ada", "age": 3, "gone": null}"#))
        let absent = v.optionalString("avatar_url")
        let null = v.optionalString("bio")
        let value = v.optionalString("full_name")
        #expect(absent == .absent)
        #expect(null == .null)
        #expect(value == .value("Ada"))
        #expect(absent.value == nil && absent.isAbsent && !absent.isPresent && !absent.isNull)
        #expect(null.value == nil && !null.isAbsent && null.isPresent && null.isNull)
        #expect(value.value == "Ada" && value.isPresent && !value.isNull)
        #expect(v.optionalInt("age") == .value(3))
        #expect(v.optionalInt("gone") == .null)
        #expect(v.optionalBool("nope") == .absent)
        #expect(value.map { $0.count } == .value(3))
        #expect(null.map { $0.count } == .null)
        #expect(v.isValid)
    }

    @Test func invalidOptionalValueRecordsAnIssueAndReadsAbsent() throws {
        var v = BodyValidator(try body(#"{"name": 5, "tags": "x"}"#))
        #expect(v.optionalString("name", minLength: 3) == .absent)
        #expect(v.optionalStringList("tags") == .absent)
        #expect(v.issues == [
            issue(["body", "name"], "Input should be a valid string", "string_type"),
            issue(["body", "tags"], "Input should be a valid list", "list_type"),
        ])
    }

    // MARK: Strings

    @Test func strings() throws {
        var v = BodyValidator(try body(#"{"a": "abc", "n": 3, "b": true, "o": {}, "l": []}"#))
        #expect(v.string("a", minLength: 3, maxLength: 3) == "abc")
        #expect(v.string("n") == nil)
        #expect(v.string("b") == nil)
        #expect(v.string("o") == nil)
        #expect(v.string("l") == nil)
        #expect(v.issues.map(\.type) == ["string_type", "string_type", "string_type", "string_type"])
        #expect(v.issues.allSatisfy { $0.msg == "Input should be a valid string" })
    }

    @Test func stringLengthMessages() throws {
        let found = try issues(#"{"a": "", "b": "ab", "c": "abcd", "d": "ab", "e": ""}"#) { v in
            _ = v.string("a", minLength: 1)
            _ = v.string("b", minLength: 3, maxLength: 20)
            _ = v.string("c", maxLength: 3)
            _ = v.string("d", maxLength: 1)
            _ = v.string("e", minLength: 0)
        }
        #expect(found == [
            issue(["body", "a"], "String should have at least 1 character", "string_too_short"),
            issue(["body", "b"], "String should have at least 3 characters", "string_too_short"),
            issue(["body", "c"], "String should have at most 3 characters", "string_too_long"),
            issue(["body", "d"], "String should have at most 1 character", "string_too_long"),
        ])
    }

    @Test func unicodeLengthsCountCharacters() throws {
        // "é" decomposed (e + U+0301), a flag (two scalars), a family emoji (ZWJ sequence), CJK.
        var v = BodyValidator(.object(JSONObject([
            ("decomposed", .string("e\u{301}e\u{301}e\u{301}")),
            ("flags", .string("🇫🇷🇩🇪")),
            ("family", .string("👨‍👩‍👧")),
            ("cjk", .string("中文字")),
            ("emoji4", .string("😀😀😀😀")),
        ])))
        #expect(v.string("decomposed", minLength: 3, maxLength: 3) == "e\u{301}e\u{301}e\u{301}")
        #expect(v.string("flags", maxLength: 2) == "🇫🇷🇩🇪")
        #expect(v.string("family", maxLength: 1) == "👨‍👩‍👧")
        #expect(v.string("cjk", minLength: 3, maxLength: 3) == "中文字")
        #expect(v.string("emoji4", maxLength: 3) == nil)
        #expect(v.issues == [issue(["body", "emoji4"], "String should have at most 3 characters", "string_too_long")])
    }

    // MARK: Integers

    @Test func integers() throws {
        var v = BodyValidator(try body(#"{"a": 42, "b": 1e3, "c": 2.0, "d": -0, "e": -9223372036854775808}"#))
        #expect(v.int("a") == 42)
        #expect(v.int("b") == 1000)
        #expect(v.int("c") == 2)
        #expect(v.int("d") == 0)
        #expect(v.int("e") == .min)
        #expect(v.isValid)
    }

    @Test func integerFailures() throws {
        let found = try issues(#"{"t": true, "f": false, "s": "3", "x": 1.5, "o": {}, "lo": 99, "hi": 32001, "big": 99999999999999999999, "bigneg": -1e30, "bigUnbounded": 9223372036854775808, "ok": 100}"#) { v in
            _ = v.int("t")
            _ = v.int("f")
            _ = v.int("s")
            _ = v.int("x")
            _ = v.int("o")
            _ = v.int("lo", min: 100, max: 32000)
            _ = v.int("hi", min: 100, max: 32000)
            _ = v.int("big", max: 100)
            _ = v.int("bigneg", min: 0)
            _ = v.int("bigUnbounded")
            #expect(v.int("ok", min: 100, max: 100) == 100)
        }
        #expect(found == [
            issue(["body", "t"], "Input should be a valid integer", "int_type"),
            issue(["body", "f"], "Input should be a valid integer", "int_type"),
            issue(["body", "s"], "Input should be a valid integer", "int_type"),
            issue(["body", "x"], "Input should be a valid integer, got a number with a fractional part", "int_from_float"),
            issue(["body", "o"], "Input should be a valid integer", "int_type"),
            issue(["body", "lo"], "Input should be greater than or equal to 100", "greater_than_equal"),
            issue(["body", "hi"], "Input should be less than or equal to 32000", "less_than_equal"),
            issue(["body", "big"], "Input should be less than or equal to 100", "less_than_equal"),
            issue(["body", "bigneg"], "Input should be greater than or equal to 0", "greater_than_equal"),
            issue(["body", "bigUnbounded"], "Unable to parse input string as an integer, exceeded maximum size", "int_parsing_size"),
        ])
    }

    // MARK: Doubles

    @Test func doubles() throws {
        var v = BodyValidator(try body(#"{"t": 0.7, "i": 2, "z": 0, "e": 1.5e-1}"#))
        #expect(v.double("t", min: 0, max: 2) == 0.7)
        #expect(v.double("i", min: 0, max: 2) == 2)
        #expect(v.double("z", min: 0, max: 2) == 0)
        #expect(v.double("e") == 0.15)
        #expect(v.optionalDouble("none") == .absent)
        #expect(v.isValid)
    }

    @Test func doubleFailures() throws {
        let found = try issues(#"{"b": true, "s": "0.5", "lo": -0.1, "hi": 2.5, "half": 0.25, "inf": 1e400}"#) { v in
            _ = v.double("b")
            _ = v.double("s")
            _ = v.double("lo", min: 0, max: 2)
            _ = v.double("hi", min: 0, max: 2)
            _ = v.double("half", min: 0.5)
            _ = v.double("inf")
        }
        #expect(found == [
            issue(["body", "b"], "Input should be a valid number", "float_type"),
            issue(["body", "s"], "Input should be a valid number", "float_type"),
            issue(["body", "lo"], "Input should be greater than or equal to 0", "greater_than_equal"),
            issue(["body", "hi"], "Input should be less than or equal to 2", "less_than_equal"),
            issue(["body", "half"], "Input should be greater than or equal to 0.5", "greater_than_equal"),
            issue(["body", "inf"], "Input should be a finite number", "finite_number"),
        ])
    }

    // MARK: Credits

    @Test func creditsAreExactMilli() throws {
        var v = BodyValidator(try body(#"{"a": 12.345, "b": 10, "c": 1e-3, "d": 0.1, "e": 12.3000, "f": "2.5", "g": 1E1, "h": 10000}"#))
        #expect(v.credits("a") == 12345)
        #expect(v.credits("b") == 10000)
        #expect(v.credits("c") == 1)
        #expect(v.credits("d") == 100)
        #expect(v.credits("e") == 12300)
        #expect(v.credits("f") == 2500)
        #expect(v.credits("g") == 10000)
        #expect(v.credits("h", minMilli: 1000, maxMilli: 10_000_000) == 10_000_000)
        #expect(v.optionalCredits("a") == .value(12345))
        #expect(v.optionalCredits("none") == .absent)
        #expect(v.isValid)
    }

    @Test func creditFailures() throws {
        let found = try issues(#"{"places": 12.3456, "tiny": 1e-4, "lo": 0.999, "hi": 10000.001, "bool": true, "str": "abc", "list": [], "huge": 1e30, "hugeneg": -1e30, "hugeUnbounded": 99999999999999999999, "frac": 0.5}"#) { v in
            _ = v.credits("places")
            _ = v.credits("tiny", minMilli: 1000)
            _ = v.credits("lo", minMilli: 1000, maxMilli: 10_000_000)
            _ = v.credits("hi", minMilli: 1000, maxMilli: 10_000_000)
            _ = v.credits("bool")
            _ = v.credits("str")
            _ = v.credits("list")
            _ = v.credits("huge", maxMilli: 10_000_000)
            _ = v.credits("hugeneg", minMilli: 0)
            _ = v.credits("hugeUnbounded")
            _ = v.credits("frac", minMilli: 1500)
        }
        #expect(found == [
            issue(["body", "places"], "Decimal input should have no more than 3 decimal places", "decimal_max_places"),
            issue(["body", "tiny"], "Decimal input should have no more than 3 decimal places", "decimal_max_places"),
            issue(["body", "lo"], "Input should be greater than or equal to 1", "greater_than_equal"),
            issue(["body", "hi"], "Input should be less than or equal to 10000", "less_than_equal"),
            issue(["body", "bool"], "Input should be a valid number", "decimal_type"),
            issue(["body", "str"], "Input should be a valid decimal", "decimal_parsing"),
            issue(["body", "list"], "Input should be a valid number", "decimal_type"),
            issue(["body", "huge"], "Input should be less than or equal to 10000", "less_than_equal"),
            issue(["body", "hugeneg"], "Input should be greater than or equal to 0", "greater_than_equal"),
            issue(["body", "hugeUnbounded"], "Input should be less than or equal to 9223372036854775.807", "less_than_equal"),
            issue(["body", "frac"], "Input should be greater than or equal to 1.5", "greater_than_equal"),
        ])
    }

    // MARK: Booleans and enums

    @Test func booleans() throws {
        let found = try issues(#"{"t": true, "f": false, "one": 1, "s": "true"}"#) { v in
            #expect(v.bool("t") == true)
            #expect(v.bool("f") == false)
            #expect(v.bool("one") == nil)
            #expect(v.optionalBool("s") == .absent)
            #expect(v.optionalBool("t") == .value(true))
        }
        #expect(found == [
            issue(["body", "one"], "Input should be a valid boolean", "bool_type"),
            issue(["body", "s"], "Input should be a valid boolean", "bool_type"),
        ])
    }

    @Test func enumerations() throws {
        let found = try issues(#"{"ok": "research", "bad": "Research", "num": 1, "one": "x", "two": "c", "n": null}"#) { v in
            #expect(v.enumeration("ok", Category.self) == .research)
            #expect(v.enumeration("bad", Category.self) == nil)
            #expect(v.enumeration("num", Category.self) == nil)
            #expect(v.enumeration("one", Single.self) == nil)
            #expect(v.optionalEnumeration("two", Pair.self) == .absent)
            #expect(v.optionalEnumeration("n", Pair.self) == .null)
            #expect(v.optionalEnumeration("ok", Category.self) == .value(.research))
        }
        #expect(found == [
            issue(["body", "bad"], "Input should be 'content', 'research' or 'analysis'", "enum"),
            issue(["body", "num"], "Input should be 'content', 'research' or 'analysis'", "enum"),
            issue(["body", "one"], "Input should be 'only'", "enum"),
            issue(["body", "two"], "Input should be 'a' or 'b'", "enum"),
        ])
    }

    // MARK: Lists

    @Test func stringLists() throws {
        var v = BodyValidator(try body(#"{"tags": ["a", "bb"], "empty": []}"#))
        #expect(v.stringList("tags", minItems: 1, maxItems: 10) == ["a", "bb"])
        #expect(v.stringList("empty") == [])
        #expect(v.optionalStringList("tags") == .value(["a", "bb"]))
        #expect(v.isValid)
    }

    @Test func stringListFailures() throws {
        let found = try issues(#"{"none": [], "two": ["a"], "many": ["1","2","3","4","5","6","7","8","9","10","11"], "one": ["a", "b"], "mixed": ["ok", 5, "way too long", null], "notList": {"a": 1}, "shortAndBad": [7]}"#) { v in
            _ = v.stringList("none", minItems: 1, maxItems: 10)
            _ = v.stringList("two", minItems: 2)
            _ = v.stringList("many", minItems: 1, maxItems: 10)
            _ = v.stringList("one", maxItems: 1)
            #expect(v.stringList("mixed", itemMaxLength: 5) == nil)
            _ = v.stringList("notList")
            _ = v.stringList("shortAndBad", minItems: 2)
        }
        #expect(found == [
            issue(["body", "none"], "List should have at least 1 item after validation, not 0", "too_short"),
            issue(["body", "two"], "List should have at least 2 items after validation, not 1", "too_short"),
            issue(["body", "many"], "List should have at most 10 items after validation, not 11", "too_long"),
            issue(["body", "one"], "List should have at most 1 item after validation, not 2", "too_long"),
            issue(["body", "mixed", 1], "Input should be a valid string", "string_type"),
            issue(["body", "mixed", 2], "String should have at most 5 characters", "string_too_long"),
            issue(["body", "mixed", 3], "Input should be a valid string", "string_type"),
            issue(["body", "notList"], "Input should be a valid list", "list_type"),
            issue(["body", "shortAndBad", 0], "Input should be a valid string", "string_type"),
            issue(["body", "shortAndBad"], "List should have at least 2 items after validation, not 1", "too_short"),
        ])
    }

    @Test func listOfObjects() throws {
        struct Input: Equatable { var name: String; var required: Bool }
        var v = BodyValidator(try body(#"{"inputs": [{"name": "topic", "required": true}, {"name": "tone", "required": false}]}"#))
        let inputs = v.list("inputs", minItems: 1) { e -> Input? in
            let name = e.string("name")
            let required = e.bool("required")
            guard let name, let required else { return nil }
            return Input(name: name, required: required)
        }
        #expect(inputs == [Input(name: "topic", required: true), Input(name: "tone", required: false)])
        #expect(v.optionalList("absent") { _ in 1 } == .absent)
        #expect(v.isValid)
    }

    @Test func listOfObjectsFailures() throws {
        let found = try issues(#"{"inputs": [{"name": "ok"}, 5, {"name": ""}, null], "few": [], "many": [{}, {}, {}]}"#) { v in
            let result = v.list("inputs") { e in e.string("name", minLength: 1) }
            #expect(result == nil)
            _ = v.list("few", minItems: 1) { _ in 1 }
            _ = v.list("many", maxItems: 2) { _ in 1 }
        }
        #expect(found == [
            issue(["body", "inputs", 1], "Input should be a valid dictionary", "dict_type"),
            issue(["body", "inputs", 2, "name"], "String should have at least 1 character", "string_too_short"),
            issue(["body", "inputs", 3], "Input should be a valid dictionary", "dict_type"),
            issue(["body", "few"], "List should have at least 1 item after validation, not 0", "too_short"),
            issue(["body", "many"], "List should have at most 2 items after validation, not 3", "too_long"),
        ])
    }

    // MARK: Nested objects

    @Test func nestedObjects() throws {
        var v = BodyValidator(try body(#"{"config": {"model": "m", "temperature": 0.5}, "other": {"x": 1}}"#))
        let model = v.nested("config") { c in c.string("model") }
        #expect(model == "m")
        let other = v.optionalNested("other") { c in c.int("x") }
        #expect(other == .value(1))
        #expect(v.optionalNested("absent") { c in c.int("x") } == .absent)
        #expect(v.isValid)
    }

    @Test func nestedReturnsNilWhenTheChildHasIssues() throws {
        var v = BodyValidator(try body(#"{"config": {"model": "m", "max_tokens": 5}}"#))
        let result = v.nested("config") { c -> String? in
            _ = c.int("max_tokens", min: 100)
            return c.string("model")
        }
        #expect(result == nil)
        #expect(v.issues == [issue(["body", "config", "max_tokens"], "Input should be greater than or equal to 100", "greater_than_equal")])
    }

    @Test func nestedNonObject() throws {
        let found = try issues(#"{"config": [1], "opt": "x", "optnull": null}"#) { v in
            var called = false
            #expect(v.nested("config") { _ in called = true; return 1 } == nil)
            #expect(!called)
            #expect(v.optionalNested("opt") { _ in 1 } == .absent)
            #expect(v.optionalNested("optnull") { _ in 1 } == .null)
        }
        #expect(found == [
            issue(["body", "config"], "Input should be a valid dictionary", "dict_type"),
            issue(["body", "opt"], "Input should be a valid dictionary", "dict_type"),
        ])
    }

    @Test func objectAndMergeForm() throws {
        var v = BodyValidator(try body(#"{"config": {"max_tokens": "x"}, "bad": 3}"#))
        let maybeChild = v.object("config")
        var child = try #require(maybeChild)
        #expect(child.loc == ["body", "config"])
        _ = child.int("max_tokens")
        v.merge(child)
        #expect(v.object("bad") == nil)
        #expect(v.object("absent") == nil)
        #expect(v.issues == [
            issue(["body", "config", "max_tokens"], "Input should be a valid integer", "int_type"),
            issue(["body", "bad"], "Input should be a valid dictionary", "dict_type"),
            issue(["body", "absent"], "Field required", "missing"),
        ])
    }

    @Test func nestedThrowingClosureRethrows() throws {
        struct Boom: Error {}
        var v = BodyValidator(try body(#"{"config": {}}"#))
        #expect(throws: Boom.self) { _ = try v.nested("config") { _ -> Int? in throw Boom() } }
    }

    @Test func dictionaries() throws {
        let found = try issues(#"{"schema": {"type": "object"}, "list": [], "n": null}"#) { v in
            #expect(v.dictionary("schema") == JSONObject([("type", "object")]))
            #expect(v.dictionary("list") == nil)
            #expect(v.optionalDictionary("n") == .null)
            #expect(v.optionalDictionary("schema").value?.count == 1)
        }
        #expect(found == [issue(["body", "list"], "Input should be a valid dictionary", "dict_type")])
    }

    // MARK: Accumulation, custom errors, emails

    @Test func accumulatesEveryIssueOfAnAgentBody() throws {
        let text = #"""
        {
          "name": "ab",
          "description": 12,
          "category": "gaming",
          "tags": [],
          "price_per_run": 0.5,
          "config": {
            "model": "gpt",
            "temperature": 3,
            "max_tokens": true,
            "timeout_seconds": 301,
            "required_inputs": [{"name": "topic", "type": "string", "required": true}, {"type": "string"}, {"name": 7, "required": "yes"}],
            "output_schema": []
          },
          "capabilities": ["x", 1],
          "demo_available": "no"
        }
        """#
        var v = BodyValidator(try body(text))
        _ = v.string("name", minLength: 3, maxLength: 100)
        _ = v.string("description", minLength: 10, maxLength: 500)
        _ = v.optionalString("long_description", maxLength: 5000)
        _ = v.enumeration("category", Category.self)
        _ = v.stringList("tags", minItems: 1, maxItems: 10)
        _ = v.credits("price_per_run", minMilli: 1000, maxMilli: 10_000_000)
        _ = v.nested("config") { c -> Bool? in
            _ = c.string("model")
            _ = c.double("temperature", min: 0, max: 2)
            _ = c.int("max_tokens", min: 100, max: 32000)
            _ = c.int("timeout_seconds", min: 10, max: 300)
            _ = c.list("required_inputs") { i -> Bool? in
                _ = i.string("name")
                _ = i.string("type")
                _ = i.bool("required")
                return true
            }
            _ = c.dictionary("output_schema")
            return true
        }
        _ = v.stringList("capabilities")
        _ = v.optionalStringList("limitations")
        _ = v.optionalBool("demo_available")
        #expect(v.issues == [
            issue(["body", "name"], "String should have at least 3 characters", "string_too_short"),
            issue(["body", "description"], "Input should be a valid string", "string_type"),
            issue(["body", "category"], "Input should be 'content', 'research' or 'analysis'", "enum"),
            issue(["body", "tags"], "List should have at least 1 item after validation, not 0", "too_short"),
            issue(["body", "price_per_run"], "Input should be greater than or equal to 1", "greater_than_equal"),
            issue(["body", "config", "temperature"], "Input should be less than or equal to 2", "less_than_equal"),
            issue(["body", "config", "max_tokens"], "Input should be a valid integer", "int_type"),
            issue(["body", "config", "timeout_seconds"], "Input should be less than or equal to 300", "less_than_equal"),
            issue(["body", "config", "required_inputs", 1, "name"], "Field required", "missing"),
            issue(["body", "config", "required_inputs", 1, "required"], "Field required", "missing"),
            issue(["body", "config", "required_inputs", 2, "name"], "Input should be a valid string", "string_type"),
            issue(["body", "config", "required_inputs", 2, "type"], "Field required", "missing"),
            issue(["body", "config", "required_inputs", 2, "required"], "Input should be a valid boolean", "bool_type"),
            issue(["body", "config", "output_schema"], "Input should be a valid dictionary", "dict_type"),
            issue(["body", "capabilities", 1], "Input should be a valid string", "string_type"),
            issue(["body", "demo_available"], "Input should be a valid boolean", "bool_type"),
        ])
        do throws(ValidationFailure) {
            try v.finish()
            Issue.record("finish() should throw")
        } catch {
            #expect(error.issues.count == 16)
            let detail = error.json["detail"]
            #expect(detail?[8]?["loc"] == ["body", "config", "required_inputs", 1, "name"])
            #expect(detail?[8]?.serializedString() == #"{"loc":["body","config","required_inputs",1,"name"],"msg":"Field required","type":"missing"}"#)
        }
    }

    @Test func customValueErrors() throws {
        var v = BodyValidator(try body(#"{"password": "short"}"#))
        if let password = v.string("password", minLength: 8) {
            Issue.record("unexpected \(password)")
        }
        v.fail("password", "Password must contain at least one uppercase letter")
        v.fail("Passwords do not match")
        v.add(["extra", 0], msg: "Custom", type: "custom_type")
        v.add(ValidationIssue(loc: ["header", "x"], msg: "m", type: "t"))
        #expect(v.issues == [
            issue(["body", "password"], "String should have at least 8 characters", "string_too_short"),
            issue(["body", "password"], "Value error, Password must contain at least one uppercase letter", "value_error"),
            issue(["body"], "Value error, Passwords do not match", "value_error"),
            issue(["body", "extra", 0], "Custom", "custom_type"),
            issue(["header", "x"], "m", "t"),
        ])
    }

    @Test func emails() throws {
        let found = try issues(#"{"ok": "Ada.Lovelace+x@Example.COM", "bad": "not-an-email", "num": 5, "two": "a@b@c.com", "opt": "x@y"}"#) { v in
            #expect(v.email("ok") == "ada.lovelace+x@example.com")
            #expect(v.email("bad") == nil)
            #expect(v.email("num") == nil)
            #expect(v.email("two") == nil)
            #expect(v.optionalEmail("opt") == .absent)
            #expect(v.optionalEmail("ok") == .value("ada.lovelace+x@example.com"))
        }
        #expect(found == [
            issue(["body", "bad"], "value is not a valid email address: An email address must have an @-sign.", "value_error"),
            issue(["body", "num"], "Input should be a valid string", "string_type"),
            issue(["body", "two"], "value is not a valid email address: The email address is not valid. It must have exactly one @-sign.", "value_error"),
            issue(["body", "opt"], "value is not a valid email address: The part after the @-sign is not valid. It should have a period.", "value_error"),
        ])
    }

    @Test(arguments: [
        "a@b.co", "first.last@sub.example.org", "x+tag@example.com", "o'brien@example.ie", "a-b_c@my-host.example",
        "USER@EXAMPLE.COM", "1@2.io", String(repeating: "a", count: 64) + "@example.com",
    ])
    func validEmails(_ address: String) {
        #expect(EmailAddress.isValid(address))
        #expect(EmailAddress.problem(with: address) == nil)
        #expect(EmailAddress.normalize(address) == address.lowercased())
    }

    @Test(arguments: [
        "", "plain", "@example.com", "a@", "a@b", "a@@b.com", "a@b@c.com", "a b@example.com", "a@exa mple.com", " a@b.com",
        "a@b.com ", ".a@b.com", "a.@b.com", "a..b@c.com", "a@-b.com", "a@b-.com", "a@b..com", "a@.b.com", "a@b.com.",
        "a@b_c.com", "a@b.123", "a\"b@c.com", "a,b@c.com", "a@b.c\u{0}", "é@example.com", "a@exämple.com",
        String(repeating: "a", count: 65) + "@example.com",
        "a@" + String(repeating: "b", count: 64) + ".com",
        "a@" + String(repeating: "abcdefghi.", count: 25) + "com",
    ])
    func invalidEmails(_ address: String) {
        #expect(!EmailAddress.isValid(address))
        #expect(EmailAddress.problem(with: address) != nil)
        #expect(EmailAddress.normalize(address) == nil)
    }

    @Test func rejectUnknownKeys() throws {
        var v = BodyValidator(try body(#"{"a": 1, "b": 2, "c": 3}"#))
        _ = v.int("a")
        _ = v.optionalInt("c")
        v.rejectUnknownKeys()
        #expect(v.issues == [issue(["body", "b"], "Extra inputs are not permitted", "extra_forbidden")])
    }

    @Test func customLoc() throws {
        var v = BodyValidator(try body(#"{"topic": 5}"#), loc: ["body", "inputs"])
        _ = v.string("topic")
        _ = v.string("missing")
        #expect(v.issues.map(\.loc) == [["body", "inputs", "topic"], ["body", "inputs", "missing"]])
        var top = BodyValidator(.array([]), loc: [])
        _ = top.string("x")
        #expect(top.issues == [issue([], "Input should be a valid dictionary or object to extract fields from", "model_attributes_type")])
    }

    @Test func issueAndFailureJSON() {
        let i = issue(["body", "tags", 0], "Input should be a valid string", "string_type")
        #expect(i.json.serializedString() == #"{"loc":["body","tags",0],"msg":"Input should be a valid string","type":"string_type"}"#)
        let failure = ValidationFailure(issues: [i, issue(["query", "limit"], "m", "t")])
        #expect(failure.json.serializedString()
            == #"{"detail":[{"loc":["body","tags",0],"msg":"Input should be a valid string","type":"string_type"},{"loc":["query","limit"],"msg":"m","type":"t"}]}"#)
        #expect(failure.description == "body.tags.0: Input should be a valid string [string_type]; query.limit: m [t]")
        #expect(ValidationFailure(i).issues == [i])
        #expect(LocItem.key("a").json == "a")
        #expect(LocItem.index(3).json == 3)
    }

    @Test func finishThrowsTypedFailure() throws {
        var v = BodyValidator(try body(#"{"n": "x"}"#))
        _ = v.int("n")
        #expect(throws: ValidationFailure(issues: [issue(["body", "n"], "Input should be a valid integer", "int_type")])) {
            try v.finish()
        }
    }
}
