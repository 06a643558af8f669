import Testing
@testable import ControlPlane

private enum SortBy: String, CaseIterable { case popular, rating, newest, price_low, price_high }

private func query(_ pairs: [(String, String)]) -> QueryValidator {
    QueryValidator(pairs.map { (name: $0.0, value: $0.1) })
}

private func issue(_ name: String, _ msg: String, _ type: String) -> ValidationIssue {
    ValidationIssue(loc: ["query", .key(name)], msg: msg, type: type)
}

private let intParsing = "Input should be a valid integer, unable to parse string as an integer"
private let floatParsing = "Input should be a valid number, unable to parse string as a number"

@Suite struct QueryValidatorTests {
    @Test func defaultsWhenAbsent() throws {
        var q = query([])
        #expect(q.int("skip", default: 0, min: 0) == 0)
        #expect(q.int("limit", default: 20, min: 1, max: 100) == 20)
        #expect(q.int("page") == nil)
        #expect(q.double("min_rating", min: 0, max: 5) == nil)
        #expect(q.double("r", default: 1.5) == 1.5)
        #expect(q.credits("max_price", minMilli: 0) == nil)
        #expect(q.credits("p", default: 5000) == 5000)
        #expect(q.string("search") == nil)
        #expect(q.string("s", default: "x") == "x")
        #expect(q.enumeration("sort_by", SortBy.self, default: .newest) == .newest)
        #expect(q.bool("flag") == nil)
        #expect(q.bool("flag", default: true) == true)
        #expect(q.all("tags") == [])
        #expect(q.stringList("tags") == [])
        #expect(!q.has("skip"))
        #expect(q.isValid)
        try q.finish()
    }

    @Test func integers() {
        var q = query([("a", "5"), ("b", "-3"), ("c", " +7 "), ("d", "5.0"), ("e", "007"), ("f", "9223372036854775807"), ("g", "-9223372036854775808"), ("h", "10.00")])
        #expect(q.int("a") == 5)
        #expect(q.int("b") == -3)
        #expect(q.int("c") == 7)
        #expect(q.int("d") == 5)
        #expect(q.int("e") == 7)
        #expect(q.int("f") == .max)
        #expect(q.int("g") == .min)
        #expect(q.int("h", min: 10, max: 10) == 10)
        #expect(q.isValid)
    }

    @Test func integerFailures() {
        var q = query([
            ("empty", ""), ("word", "abc"), ("frac", "1.5"), ("exp", "1e3"), ("hex", "0x10"), ("space", "1 2"), ("sign", "--1"),
            ("neg", "-1"), ("over", "101"), ("huge", "99999999999999999999"), ("hugeneg", "-99999999999999999999"),
            ("hugeUnbounded", "99999999999999999999"), ("dot", "."), ("under", "1_000"),
        ])
        for name in ["empty", "word", "frac", "exp", "hex", "space", "sign", "dot", "under"] {
            #expect(q.int(name) == nil, "\(name)")
        }
        #expect(q.int("neg", default: 0, min: 0) == nil)
        #expect(q.int("over", min: 1, max: 100) == nil)
        #expect(q.int("huge", min: 1, max: 100) == nil)
        #expect(q.int("hugeneg", min: 0) == nil)
        #expect(q.int("hugeUnbounded") == nil)
        #expect(q.issues == [
            issue("empty", intParsing, "int_parsing"),
            issue("word", intParsing, "int_parsing"),
            issue("frac", intParsing, "int_parsing"),
            issue("exp", intParsing, "int_parsing"),
            issue("hex", intParsing, "int_parsing"),
            issue("space", intParsing, "int_parsing"),
            issue("sign", intParsing, "int_parsing"),
            issue("dot", intParsing, "int_parsing"),
            issue("under", intParsing, "int_parsing"),
            issue("neg", "Input should be greater than or equal to 0", "greater_than_equal"),
            issue("over", "Input should be less than or equal to 100", "less_than_equal"),
            issue("huge", "Input should be less than or equal to 100", "less_than_equal"),
            issue("hugeneg", "Input should be greater than or equal to 0", "greater_than_equal"),
            issue("hugeUnbounded", "Unable to parse input string as an integer, exceeded maximum size", "int_parsing_size"),
        ])
    }

    @Test func lastOccurrenceWinsForScalars() {
        var q = query([("limit", "abc"), ("limit", "50")])
        #expect(q.int("limit", default: 20, min: 1, max: 100) == 50)
        #expect(q.value("limit") == "50")
        #expect(q.all("limit") == ["abc", "50"])
        #expect(q.has("limit"))
        #expect(q.isValid)
    }

    @Test func doubles() {
        var q = query([("a", "4.5"), ("b", "0"), ("c", "5"), ("d", ".5"), ("e", "1e0"), ("f", " 2 "), ("g", "-0.25"), ("h", "3.")])
        #expect(q.double("a", min: 0, max: 5) == 4.5)
        #expect(q.double("b", min: 0, max: 5) == 0)
        #expect(q.double("c", min: 0, max: 5) == 5)
        #expect(q.double("d") == 0.5)
        #expect(q.double("e") == 1)
        #expect(q.double("f") == 2)
        #expect(q.double("g") == -0.25)
        #expect(q.double("h") == 3)
        #expect(q.isValid)
    }

    @Test func doubleFailures() {
        var q = query([("w", "high"), ("e", ""), ("nan", "nan"), ("inf", "inf"), ("comma", "4,5"), ("lo", "-0.1"), ("hi", "5.01"), ("big", "1e400"), ("half", "0.4")])
        for name in ["w", "e", "nan", "inf", "comma", "lo", "hi", "big", "half"] {
            _ = q.double(name, min: name == "half" ? 0.5 : 0, max: name == "half" ? nil : 5)
        }
        #expect(q.issues == [
            issue("w", floatParsing, "float_parsing"),
            issue("e", floatParsing, "float_parsing"),
            issue("nan", floatParsing, "float_parsing"),
            issue("inf", floatParsing, "float_parsing"),
            issue("comma", floatParsing, "float_parsing"),
            issue("lo", "Input should be greater than or equal to 0", "greater_than_equal"),
            issue("hi", "Input should be less than or equal to 5", "less_than_equal"),
            issue("big", "Input should be a finite number", "finite_number"),
            issue("half", "Input should be greater than or equal to 0.5", "greater_than_equal"),
        ])
    }

    @Test func credits() {
        var q = query([("a", "12.345"), ("b", "10"), ("c", "0.1"), ("d", ".5"), ("e", "12.3000"), ("f", "0")])
        #expect(q.credits("a") == 12345)
        #expect(q.credits("b") == 10000)
        #expect(q.credits("c") == 100)
        #expect(q.credits("d") == 500)
        #expect(q.credits("e") == 12300)
        #expect(q.credits("f", minMilli: 0) == 0)
        #expect(q.isValid)
    }

    @Test func creditFailures() {
        var q = query([("places", "1.2345"), ("word", "cheap"), ("neg", "-1"), ("hi", "100.5"), ("huge", "99999999999999999999"), ("hugeUnbounded", "1e30")])
        #expect(q.credits("places") == nil)
        #expect(q.credits("word") == nil)
        #expect(q.credits("neg", minMilli: 0) == nil)
        #expect(q.credits("hi", maxMilli: 100_000) == nil)
        #expect(q.credits("huge", maxMilli: 10_000_000) == nil)
        #expect(q.credits("hugeUnbounded") == nil)
        #expect(q.issues == [
            issue("places", "Decimal input should have no more than 3 decimal places", "decimal_max_places"),
            issue("word", "Input should be a valid decimal", "decimal_parsing"),
            issue("neg", "Input should be greater than or equal to 0", "greater_than_equal"),
            issue("hi", "Input should be less than or equal to 100", "less_than_equal"),
            issue("huge", "Input should be less than or equal to 10000", "less_than_equal"),
            issue("hugeUnbounded", "Input should be less than or equal to 9223372036854775.807", "less_than_equal"),
        ])
    }

    @Test func strings() {
        var q = query([("search", "writer"), ("empty", ""), ("long", "abcdef"), ("short", "a"), ("uni", "é中😀")])
        #expect(q.string("search", maxLength: 100) == "writer")
        #expect(q.string("empty") == "")
        #expect(q.string("long", maxLength: 5) == nil)
        #expect(q.string("short", minLength: 2) == nil)
        #expect(q.string("uni", maxLength: 3) == "é中😀")
        #expect(q.issues == [
            issue("long", "String should have at most 5 characters", "string_too_long"),
            issue("short", "String should have at least 2 characters", "string_too_short"),
        ])
    }

    @Test func enumerations() {
        var q = query([("sort_by", "rating"), ("bad", "Rating"), ("empty", "")])
        #expect(q.enumeration("sort_by", SortBy.self, default: .newest) == .rating)
        #expect(q.enumeration("bad", SortBy.self) == nil)
        #expect(q.enumeration("empty", SortBy.self, default: .newest) == nil)
        let msg = "Input should be 'popular', 'rating', 'newest', 'price_low' or 'price_high'"
        #expect(q.issues == [issue("bad", msg, "enum"), issue("empty", msg, "enum")])
    }

    @Test(arguments: [("true", true), ("TRUE", true), ("1", true), ("yes", true), ("On", true), ("t", true), ("Y", true),
                      ("false", false), ("False", false), ("0", false), ("no", false), ("OFF", false), ("f", false), ("n", false)])
    func booleans(_ raw: String, _ expected: Bool) {
        var q = query([("flag", raw)])
        #expect(q.bool("flag") == expected)
        #expect(q.isValid)
    }

    @Test(arguments: ["", "2", "maybe", "truee", " true", "-1", "nope"])
    func booleanFailures(_ raw: String) {
        var q = query([("flag", raw)])
        #expect(q.bool("flag", default: false) == nil)
        #expect(q.issues == [issue("flag", "Input should be a valid boolean, unable to interpret input", "bool_parsing")])
    }

    @Test func repeatableParameters() {
        var q = query([("tags", "ai"), ("other", "x"), ("tags", "writing"), ("tags", "way-too-long-tag")])
        #expect(q.all("tags") == ["ai", "writing", "way-too-long-tag"])
        #expect(q.stringList("tags", itemMaxLength: 10) == ["ai", "writing"])
        #expect(q.issues == [ValidationIssue(loc: ["query", "tags", 2], msg: "String should have at most 10 characters", type: "string_too_long")])
        var q2 = query([("tags", "a"), ("tags", "b"), ("tags", "c")])
        #expect(q2.stringList("tags", maxItems: 2) == [])
        #expect(q2.issues == [issue("tags", "List should have at most 2 items after validation, not 3", "too_long")])
    }

    @Test func accumulatesAndFinishThrows() {
        var q = query([("skip", "-1"), ("limit", "1000"), ("min_rating", "x"), ("sort_by", "cheapest"), ("max_price", "1.0001")])
        _ = q.int("skip", default: 0, min: 0)
        _ = q.int("limit", default: 20, min: 1, max: 100)
        _ = q.double("min_rating", min: 0, max: 5)
        _ = q.enumeration("sort_by", SortBy.self, default: .newest)
        _ = q.credits("max_price", minMilli: 0)
        q.fail("days", "days must be 1-365")
        q.add("x", msg: "m", type: "t")
        #expect(q.issues.map(\.type) == ["greater_than_equal", "less_than_equal", "float_parsing", "enum", "decimal_max_places", "value_error", "t"])
        #expect(q.issues[5] == issue("days", "Value error, days must be 1-365", "value_error"))
        #expect(q.issues.allSatisfy { $0.loc.first == "query" && $0.loc.count == 2 })
        #expect(!q.isValid)
        #expect(throws: ValidationFailure(issues: q.issues)) { try q.finish() }
    }

    @Test func hugeAndHostileValuesNeverCrash() {
        let hostile = [
            "99999999999999999999", "-99999999999999999999", String(repeating: "9", count: 10_000), "1e999999999999999999999",
            "-1e-999999999999999999", "1" + String(repeating: "0", count: 400) + ".5", "\u{0}", "１２", "٣", "1\u{301}",
        ]
        for raw in hostile {
            var q = query([("v", raw)])
            _ = q.int("v", min: 0, max: 100)
            _ = q.int("v")
            _ = q.double("v", min: 0, max: 5)
            _ = q.credits("v", minMilli: 0, maxMilli: 1_000_000)
            _ = q.credits("v")
            _ = q.bool("v")
            _ = q.string("v", maxLength: 10)
            _ = q.enumeration("v", SortBy.self)
            #expect(!q.isValid, "\(raw.prefix(20))")
        }
    }
}
