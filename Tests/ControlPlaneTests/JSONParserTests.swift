import Testing
@testable import ControlPlane

private func parse(_ text: String, maxDepth: Int = 64) throws(JSONParseError) -> JSONValue {
    try JSONParser.parse(Array(text.utf8), maxDepth: maxDepth)
}

private func parseError(_ bytes: [UInt8], maxDepth: Int = 64) -> JSONParseError? {
    do {
        _ = try JSONParser.parse(bytes, maxDepth: maxDepth)
        return nil
    } catch {
        return error
    }
}

private func parseError(_ text: String) -> JSONParseError? { parseError(Array(text.utf8)) }

@Suite struct JSONParserTests {
    // MARK: Accepted documents

    @Test func scalars() throws {
        #expect(try parse("null") == .null)
        #expect(try parse("true") == .bool(true))
        #expect(try parse("false") == .bool(false))
        #expect(try parse("\"hi\"") == .string("hi"))
        #expect(try parse("0") == .number(JSONNumber(text: "0")))
        #expect(try parse(" \t\r\n 42 \n") == .number(JSONNumber(text: "42")))
    }

    @Test func boolsAreNotNumbers() throws {
        let v = try parse("[true, 1, false, 0]")
        #expect(v == .array([.bool(true), .number(JSONNumber(1)), .bool(false), .number(JSONNumber(0))]))
        #expect(v[0]?.boolValue == true)
        #expect(v[0]?.numberValue == nil)
        #expect(v[1]?.boolValue == nil)
    }

    @Test(arguments: ["0", "-0", "12", "-12.50e1", "1E+5", "1e-3", "0.000", "3.14159265358979323846264338327950288",
                      "99999999999999999999999999", "1e400", "-0.0e-0"])
    func numberTextIsPreserved(_ literal: String) throws {
        let v = try parse("[\(literal)]")
        #expect(v[0]?.numberValue?.text == literal)
        #expect(v.serializedString() == "[\(literal)]")
    }

    @Test func containers() throws {
        let v = try parse(#"{"a": [1, {"b": null}], "c": {}, "d": [], "e": "x"}"#)
        let expected: JSONValue = ["a": [1, ["b": nil]], "c": [:], "d": [], "e": "x"]
        #expect(v == expected)
        #expect(v.objectValue?.keys == ["a", "c", "d", "e"])
    }

    @Test func memberOrderIsKept() throws {
        let v = try parse(#"{"z": 1, "a": 2, "m": 3}"#)
        #expect(v.objectValue?.keys == ["z", "a", "m"])
        #expect(v.serializedString() == #"{"z":1,"a":2,"m":3}"#)
    }

    @Test func duplicateKeysLastValueWinsAtFirstPosition() throws {
        let v = try parse(#"{"a": 1, "b": 2, "a": 3}"#)
        #expect(v.objectValue?.count == 2)
        #expect(v["a"] == 3)
        #expect(v.objectValue?.keys == ["a", "b"])
    }

    @Test func escapes() throws {
        #expect(try parse(#""\"\\\/\b\f\n\r\t""#) == .string("\"\\/\u{08}\u{0C}\n\r\t"))
        #expect(try parse(#""\u0041\u00e9\u4E2D""#) == .string("Aé中"))
        #expect(try parse(#""\u0000""#) == .string("\u{0}"))
        #expect(try parse(#""\ud83d\ude00""#) == .string("😀"))
        #expect(try parse(#""x\uD834\uDD1Ey""#) == .string("x𝄞y"))
    }

    @Test func utf8Strings() throws {
        #expect(try parse("\"héllo 中文 😀\"") == .string("héllo 中文 😀"))
        // Boundary scalars encoded directly.
        #expect(try parse("\"\u{80}\u{7FF}\u{800}\u{D7FF}\u{E000}\u{FFFF}\u{10000}\u{10FFFF}\"")
            == .string("\u{80}\u{7FF}\u{800}\u{D7FF}\u{E000}\u{FFFF}\u{10000}\u{10FFFF}"))
    }

    @Test func acceptsNonArrayCollections() throws {
        let bytes: ArraySlice<UInt8> = Array("xx[1,2]".utf8)[2...]
        #expect(try JSONParser.parse(bytes) == [1, 2])
        let lazy = "{\"k\":true}".utf8.lazy.map { $0 }
        #expect(try JSONParser.parse(lazy) == ["k": true])
        #expect(try JSONParser.parse("[\"s\"]") == ["s"])
    }

    @Test func depthLimit() throws {
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(throws: Never.self) { try parse(ok) }
        let tooDeep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        let error = parseError(tooDeep)
        #expect(error?.message == "Nesting deeper than 64 levels")
        #expect(error?.offset == 64)
        let objects = String(repeating: "{\"a\":", count: 3) + "1" + String(repeating: "}", count: 3)
        #expect(parseError(Array(objects.utf8), maxDepth: 2)?.message == "Nesting deeper than 2 levels")
        #expect(throws: Never.self) { try parse(objects, maxDepth: 3) }
        #expect(parseError(Array("[]".utf8), maxDepth: 0)?.message == "Nesting deeper than 0 levels")
        #expect(try JSONParser.parse(Array("1".utf8), maxDepth: 0) == 1)
    }

    @Test func hundredThousandOpenBracketsIsAnErrorNotACrash() {
        let bytes = [UInt8](repeating: UInt8(ascii: "["), count: 100_000)
        #expect(parseError(bytes)?.message == "Nesting deeper than 64 levels")
        // Even with the limit lifted, the parser is iterative: no stack overflow, just truncation.
        #expect(parseError(bytes, maxDepth: 1_000_000)?.message == "Expecting value")
        // (Kept modest: releasing a very deep value is recursive.)
        let deep = [UInt8](repeating: UInt8(ascii: "["), count: 1_000) + [UInt8](repeating: UInt8(ascii: "]"), count: 1_000)
        #expect(parseError(deep, maxDepth: 1_000) == nil)
        #expect(parseError(deep, maxDepth: 999)?.message == "Nesting deeper than 999 levels")
    }

    @Test func largeDocumentIsFast() throws {
        var text = "["
        for k in 0..<20_000 {
            if k > 0 { text += "," }
            text += #"{"id": \#(k), "name": "agent \#(k) é", "price": 12.345, "tags": ["a", "b"], "ok": true}"#
        }
        text += "]"
        let clock = ContinuousClock()
        let start = clock.now
        let v = try parse(text)
        let elapsed = clock.now - start
        #expect(v.arrayValue?.count == 20_000)
        #expect(v[19_999]?["name"] == "agent 19999 é")
        #expect(elapsed < .seconds(5))
    }

    // MARK: Rejected documents

    static let malformed: [(String, String)] = [
        // empty, truncated
        ("", "Expecting value"),
        ("   ", "Expecting value"),
        ("[", "Expecting value"),
        ("[1", "Expecting ',' delimiter"),
        ("[1,", "Expecting value"),
        ("{", "Expecting property name enclosed in double quotes"),
        ("{\"a\"", "Expecting ':' delimiter"),
        ("{\"a\":", "Expecting value"),
        ("{\"a\":1", "Expecting ',' delimiter"),
        ("\"abc", "Unterminated string"),
        ("tru", "Expecting value"),
        ("nul", "Expecting value"),
        // trailing garbage
        ("1 2", "Extra data"),
        ("{} x", "Extra data"),
        ("[]]", "Extra data"),
        ("nullx", "Extra data"),
        ("truefalse", "Extra data"),
        // trailing commas, missing delimiters
        ("[1,]", "Illegal trailing comma before end of array"),
        ("{\"a\":1,}", "Illegal trailing comma before end of object"),
        ("[1 2]", "Expecting ',' delimiter"),
        ("{\"a\":1 \"b\":2}", "Expecting ',' delimiter"),
        ("{\"a\" 1}", "Expecting ':' delimiter"),
        ("[,1]", "Expecting value"),
        ("{,}", "Expecting property name enclosed in double quotes"),
        ("{1:2}", "Expecting property name enclosed in double quotes"),
        ("{'a':1}", "Expecting property name enclosed in double quotes"),
        ("['a']", "Expecting value"),
        // comments and non-JSON literals
        ("[1] // c", "Extra data"),
        ("/* c */ 1", "Expecting value"),
        ("NaN", "Expecting value"),
        ("Infinity", "Expecting value"),
        ("-Infinity", "Invalid number"),
        ("True", "Expecting value"),
        ("undefined", "Expecting value"),
        // numbers
        ("01", "Leading zeros are not allowed"),
        ("-01", "Leading zeros are not allowed"),
        ("00", "Leading zeros are not allowed"),
        ("-", "Invalid number"),
        ("1.", "Invalid number"),
        (".5", "Expecting value"),
        ("1e", "Invalid number"),
        ("1e+", "Invalid number"),
        ("1.e3", "Invalid number"),
        ("+1", "Expecting value"),
        ("- 1", "Invalid number"),
        ("0x10", "Extra data"),
        ("1.5.2", "Extra data"),
        // strings
        ("\"a\\x\"", "Invalid \\escape"),
        ("\"\\'\"", "Invalid \\escape"),
        ("\"\\", "Invalid \\escape"),
        ("\"\\u12\"", "Invalid \\uXXXX escape"),
        ("\"\\u12G4\"", "Invalid \\uXXXX escape"),
        ("\"\\ud800\"", "Lone surrogate in \\u escape"),
        ("\"\\udc00\"", "Lone surrogate in \\u escape"),
        ("\"\\ud800\\u0041\"", "Lone surrogate in \\u escape"),
        ("\"\\ud800\\ud800\"", "Lone surrogate in \\u escape"),
        ("\"\\ud800x\"", "Lone surrogate in \\u escape"),
        ("\"a\tb\"", "Invalid control character in string"),
        ("\"a\nb\"", "Invalid control character in string"),
        ("\"\u{0}\"", "Invalid control character in string"),
        ("\"\u{1F}\"", "Invalid control character in string"),
    ]

    @Test func malformedCorpus() {
        for (text, message) in Self.malformed {
            let error = parseError(text)
            #expect(error?.message == message, "input: \(text.debugDescription)")
        }
    }

    static let invalidUTF8: [[UInt8]] = [
        [0x80],                         // lone continuation byte
        [0xBF],
        [0xC0, 0xAF],                   // overlong "/"
        [0xC1, 0xBF],                   // overlong
        [0xE0, 0x80, 0xAF],             // overlong 3-byte
        [0xE0, 0x9F, 0xBF],             // overlong 3-byte (U+07FF)
        [0xF0, 0x80, 0x80, 0xAF],       // overlong 4-byte
        [0xF0, 0x8F, 0xBF, 0xBF],       // overlong 4-byte (U+FFFF)
        [0xED, 0xA0, 0x80],             // U+D800 encoded
        [0xED, 0xBF, 0xBF],             // U+DFFF encoded
        [0xF4, 0x90, 0x80, 0x80],       // U+110000
        [0xF5, 0x80, 0x80, 0x80],
        [0xFE], [0xFF],
        [0xC3],                         // truncated 2-byte
        [0xE4, 0xB8],                   // truncated 3-byte
        [0xF0, 0x9F, 0x98],             // truncated 4-byte
        [0xC3, 0x41],                   // bad continuation
        [0xE4, 0x41, 0xAD],
        [0xF0, 0x9F, 0x41, 0x80],
    ]

    @Test func invalidUTF8InStrings() {
        for bad in Self.invalidUTF8 {
            let doc = [UInt8(ascii: "\"")] + bad + [UInt8(ascii: "\"")]
            let error = parseError(doc)
            #expect(error?.message == "Invalid UTF-8", "bytes: \(bad)")
            #expect(error?.offset == 1)
        }
        // Outside strings non-ASCII is just not a value.
        #expect(parseError([0xC3, 0xA9])?.message == "Expecting value")
    }

    @Test func byteOrderMarkIsRejected() {
        let error = parseError([0xEF, 0xBB, 0xBF] + Array("{}".utf8))
        #expect(error == JSONParseError(offset: 0, message: "Unexpected UTF-8 BOM"))
    }

    @Test func offsets() {
        #expect(parseError("[1, 2,, 3]")?.offset == 6)
        #expect(parseError("{\"a\": tru}")?.offset == 6)
        #expect(parseError("  \"abc")?.offset == 2)          // where the string started
        #expect(parseError("\"ab\\qc\"")?.offset == 3)       // at the backslash
        #expect(parseError("[1] x")?.offset == 4)
        #expect(parseError("\"é\u{1}\"")?.offset == 3)
    }

    @Test func errorDescription() {
        #expect(JSONParseError(offset: 3, message: "Extra data").description == "Extra data (at byte 3)")
    }

    // MARK: Reading numbers exactly

    static let int64Table: [(String, Int64?)] = [
        ("0", 0), ("-0", 0), ("42", 42), ("-42", -42), ("1e3", 1000), ("1E+3", 1000), ("2.0", 2), ("2.000e0", 2),
        ("12.5e1", 125), ("1500e-3", nil), ("1000e-3", 1), ("1.5", nil), ("1e-3", nil), ("0.1e1", 1),
        ("9223372036854775807", .max), ("-9223372036854775808", .min),
        ("9223372036854775808", nil), ("-9223372036854775809", nil), ("1e19", nil), ("1e30", nil),
        ("99999999999999999999", nil), ("0e999999999999999999999", 0), ("1e999999999999999999999", nil),
        ("1e-999999999999999999999", nil), ("0.0000000000000000000000001e25", 1),
    ]

    @Test func int64Values() {
        for (text, expected) in Self.int64Table {
            #expect(JSONNumber(text: text).int64 == expected, "\(text)")
        }
    }

    static let scaledTable: [(String, Int, Int64?)] = [
        ("12.345", 3, 12345), ("1e-3", 3, 1), ("12.3456", 3, nil), ("12", 3, 12000), ("12.3", 3, 12300),
        ("12.3000", 3, 12300), ("-0.005", 3, -5), ("-12.345", 3, -12345), ("0.0005", 3, nil), ("0", 3, 0),
        ("1.5", 0, nil), ("1.5", 1, 15), ("100", 2, 10000), ("1.23e2", 3, 123000), ("123e-5", 3, nil), ("123e-5", 5, 123),
        ("9223372036854775.807", 3, .max), ("-9223372036854775.808", 3, .min), ("9223372036854775.808", 3, nil),
        ("9223372036854775808", 3, nil), ("9223372036854775808", 0, nil), ("1e30", 3, nil), ("-1e30", 3, nil),
        ("1e16", 3, nil), ("1e15", 3, 1_000_000_000_000_000_000),
    ]

    @Test func scaledValues() {
        for (text, decimals, expected) in Self.scaledTable {
            #expect(JSONNumber(text: text).scaled(decimals: decimals) == expected, "\(text) at \(decimals)")
        }
    }

    @Test func scaleResultTellsOverflowFromPrecision() {
        #expect(JSONNumber(text: "1e30").scaledResult(decimals: 3) == .overflow(negative: false))
        #expect(JSONNumber(text: "-1e30").scaledResult(decimals: 3) == .overflow(negative: true))
        #expect(JSONNumber(text: "1.0001").scaledResult(decimals: 3) == .tooPrecise)
        #expect(JSONNumber(text: "1e-400").scaledResult(decimals: 3) == .tooPrecise)
    }

    @Test func decimalPlaces() {
        let table: [(String, Int)] = [("1.50", 2), ("1e-3", 3), ("12", 0), ("1.5e1", 0), ("1.25e1", 1), ("0.000", 3),
                                      ("-3.14159", 5), ("1E-2", 2), ("100e-1", 1), ("1e5", 0)]
        for (text, places) in table {
            #expect(JSONNumber(text: text).decimalPlaces() == places, "\(text)")
        }
    }

    @Test func doubleValues() {
        #expect(JSONNumber(text: "4.5").double == 4.5)
        #expect(JSONNumber(text: "-1e-3").double == -0.001)
        #expect(JSONNumber(text: "1e308").double == 1e308)
        #expect(JSONNumber(text: "1e400").double == nil)
        #expect(JSONNumber(text: "-1e400").double == nil)
        #expect(JSONNumber(text: "0.1").double == 0.1)
    }

    @Test func literalValidation() {
        for good in ["0", "-0", "1", "12.5", "1e5", "1E-5", "-0.0e+0"] {
            #expect(JSONNumber(validating: good)?.text == good)
        }
        for bad in ["", "-", "01", "1.", ".5", "+1", "1e", "0x1", "NaN", "inf", " 1", "1 ", "1_000"] {
            #expect(JSONNumber(validating: bad) == nil, "\(bad)")
        }
    }

    @Test func lenientNumbers() {
        let table: [(String, String?)] = [("5", "5"), (" +5 ", "5"), ("-5", "-5"), (".5", "0.5"), ("5.", "5"), ("007", "7"),
                                          ("1e3", "1e3"), ("-.5E-2", "-0.5e-2"), ("", nil), (".", nil), ("+", nil), ("1e", nil),
                                          ("abc", nil), ("1,5", nil), ("NaN", nil), ("inf", nil), ("--1", nil), ("0x10", nil)]
        for (raw, expected) in table {
            #expect(JSONNumber.lenient(raw)?.text == expected, "\(raw)")
        }
    }
}
