import Testing
@testable import ControlPlane

@Suite struct JSONWriterTests {
    @Test func compactOutputInStoredOrder() {
        let v: JSONValue = ["b": 1, "a": [true, false, nil], "c": ["x": "y"], "d": [], "e": [:]]
        #expect(v.serializedString() == #"{"b":1,"a":[true,false,null],"c":{"x":"y"},"d":[],"e":{}}"#)
        #expect(v.serialized() == Array(v.serializedString().utf8))
        #expect(v.description == v.serializedString())
    }

    @Test func scalars() {
        #expect(JSONValue.null.serializedString() == "null")
        #expect(JSONValue.bool(true).serializedString() == "true")
        #expect(JSONValue.string("").serializedString() == #""""#)
        #expect(JSONValue.number(JSONNumber(text: "-12.50e1")).serializedString() == "-12.50e1")
        #expect(JSONValue.credits(12345).serializedString() == "12.345")
    }

    @Test func stringEscaping() {
        let s = "q\" b\\ / \u{08}\u{0C}\n\r\t \u{0}\u{1}\u{1F}\u{7F} é中😀 \u{2028}\u{2029}"
        let expected = #""q\" b\\ / \b\f\n\r\t \u0000\u0001\u001f"# + "\u{7F} é中😀 " + #"\u2028\u2029""#
        #expect(JSONValue.string(s).serializedString() == expected)
        // Keys are escaped too.
        let o: JSONValue = ["a\"b\n": 1]
        #expect(o.serializedString() == #"{"a\"b\n":1}"#)
    }

    @Test func nearMissesOfLineSeparatorAreLeftAlone() {
        // U+2027 and U+202A share the E2 80 lead bytes.
        #expect(JSONValue.string("\u{2027}\u{202A}").serializedString() == "\"\u{2027}\u{202A}\"")
    }

    @Test func roundTrip() throws {
        let documents = [
            #"{"id":"x","n":[1,-2.50,3e10,0.000,-0],"s":"tab\there \"quoted\" \\ \u0001 é 😀 \u2028","o":{"deep":[[[{}]]]},"b":[true,false,null]}"#,
            #"[]"#, #"{}"#, #""""#, #"0"#, #"-12.50e1"#,
            #"{"a":1,"b":{"c":[{"d":"e"}]}}"#,
        ]
        for text in documents {
            let first = try JSONParser.parse(Array(text.utf8))
            let bytes = first.serialized()
            let second = try JSONParser.parse(bytes)
            #expect(first == second, "\(text)")
            #expect(second.serialized() == bytes, "\(text)")
        }
    }

    @Test func roundTripOfEveryControlCharacterAndSurrogatePair() throws {
        var s = ""
        for c in 0..<0x20 { s.unicodeScalars.append(Unicode.Scalar(UInt8(c))) }
        s += "\u{10000}\u{10FFFF}\u{FFFF}\u{E000}\u{D7FF}"
        let bytes = JSONValue.string(s).serialized()
        #expect(!bytes.contains(where: { $0 < 0x20 }))
        #expect(try JSONParser.parse(bytes) == .string(s))
    }

    @Test func canonicalDocumentsSerializeToThemselves() throws {
        let text = #"{"z":[1,2.5,"x",{"k":null}],"a":true,"m":"é\n"}"#
        #expect(try JSONParser.parse(Array(text.utf8)).serializedString() == text)
    }

    // MARK: Numbers

    @Test func milliFormatting() {
        let table: [(Int64, String)] = [
            (12345, "12.345"), (12000, "12"), (12300, "12.3"), (12340, "12.34"), (-5, "-0.005"), (0, "0"),
            (1, "0.001"), (10, "0.01"), (100, "0.1"), (1000, "1"), (-1000, "-1"), (-12345, "-12.345"), (1050, "1.05"),
            (100_000, "100"), (10_000_000, "10000"),
            (.max, "9223372036854775.807"), (.min, "-9223372036854775.808"),
        ]
        for (milli, text) in table {
            #expect(JSONNumber.milli(milli).text == text, "\(milli)")
            #expect(JSONNumber.milli(milli).scaled(decimals: 3) == milli, "\(milli) round trip")
        }
    }

    @Test func integerFormatting() {
        #expect(JSONNumber(42).text == "42")
        #expect(JSONNumber(-7).text == "-7")
        #expect(JSONNumber(Int64.min).text == "-9223372036854775808")
        #expect(JSONNumber(Int64.max).int64 == .max)
    }

    @Test func doubleFormatting() {
        let table: [(Double, String)] = [
            (4.5, "4.5"), (0, "0"), (-0.0, "0"), (3, "3"), (-2, "-2"), (0.1, "0.1"), (4.333333333333333, "4.333333333333333"),
            (1e20, "1e+20"), (1.5e-7, "1.5e-07"), (123456.789, "123456.789"),
        ]
        for (value, text) in table {
            let n = JSONNumber(value)
            #expect(n.text == text, "\(value)")
            #expect(JSONNumber(validating: n.text) != nil, "\(n.text) is valid JSON")
            #expect(n.double == value, "\(value) round trips")
        }
        let literal: JSONValue = 4.5
        #expect(literal.serializedString() == "4.5")
    }

    @Test func numberDescription() {
        #expect(JSONNumber(text: "1.50").description == "1.50")
        #expect("\(JSONNumber(7))" == "7")
    }

    // MARK: Model

    @Test func objectSubscriptSetReplacesInPlaceAppendsAndRemoves() {
        var o = JSONObject([("a", 1), ("b", 2)])
        o["a"] = "x"
        #expect(o.keys == ["a", "b"])
        #expect(o["a"] == "x")
        o["c"] = 3
        #expect(o.keys == ["a", "b", "c"])
        o["a"] = nil
        #expect(o.keys == ["b", "c"])
        #expect(o["a"] == nil)
        #expect(o["c"] == 3)
        o["c"] = 4
        #expect(o.keys == ["b", "c"])
        #expect(o.count == 2)
        #expect(JSONValue.object(o).serializedString() == #"{"b":2,"c":4}"#)
        o["missing"] = nil
        #expect(o.count == 2)
    }

    @Test func objectSequenceAndDuplicates() {
        let o = JSONObject([("k", 1), ("j", 2), ("k", 3)])
        #expect(o.count == 2)
        #expect(o.map(\.key) == ["k", "j"])
        #expect(o.map(\.value) == [3, 2])
        #expect(o.isEmpty == false)
        #expect(JSONObject().isEmpty)
    }

    @Test func objectEqualityIgnoresOrderButNotValues() {
        #expect(JSONObject([("a", 1), ("b", 2)]) == JSONObject([("b", 2), ("a", 1)]))
        #expect(JSONObject([("a", 1), ("b", 2)]) != JSONObject([("a", 1), ("b", 3)]))
        #expect(JSONObject([("a", 1)]) != JSONObject([("a", 1), ("b", 2)]))
        #expect(JSONObject([("a", 1)]) != JSONObject([("b", 1)]))
        #expect(JSONValue.number(JSONNumber(text: "1")) != .number(JSONNumber(text: "1.0")))
        #expect(JSONValue.bool(true) != 1)
    }

    @Test func accessorsAndHelpers() {
        let v: JSONValue = ["s": "x", "n": 5, "b": false, "a": [1], "o": ["k": nil]]
        #expect(v["s"]?.stringValue == "x")
        #expect(v["n"]?.numberValue?.int64 == 5)
        #expect(v["b"]?.boolValue == false)
        #expect(v["a"]?.arrayValue == [1])
        #expect(v["o"]?.objectValue?["k"] == .null)
        #expect(v["o"]?["k"]?.isNull == true)
        #expect(v["a"]?[0] == 1)
        #expect(v["a"]?[1] == nil)
        #expect(v["s"]?.numberValue == nil)
        #expect(v[0] == nil)
        #expect(JSONValue(optional: nil as String?) == .null)
        #expect(JSONValue(optional: "x" as String?) == "x")
        #expect(JSONValue(optional: 3 as Int64?) == 3)
        #expect(JSONValue(optional: nil as Bool?) == .null)
        #expect(JSONValue(optional: true as Bool?) == true)
        #expect(JSONValue(optional: nil as JSONValue?) == .null)
    }
}
