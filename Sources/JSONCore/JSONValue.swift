// A JSON document model that keeps what Foundation's JSONSerialization loses: the exact text of
// every number (so money is handled exactly) and the difference between `true` and `1`.

/// One JSON value.
///
/// Equality is structural: numbers compare by their literal text (`1` ≠ `1.0`), objects compare as
/// unordered sets of members (`{"a":1,"b":2}` == `{"b":2,"a":1}`), arrays compare in order.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)
}

// MARK: - Numbers

/// A JSON number kept as the literal written, e.g. `"-12.50e1"`. Read it through `int64`, `double`
/// or `scaled(decimals:)`, which are exact (no detour through `Double`) where that matters.
public struct JSONNumber: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The literal exactly as written (or as produced by one of the initialisers).
    public let text: String

    /// Wraps a literal. Precondition: `text` is a valid RFC 8259 number (the parser guarantees it).
    public init(text: String) {
        precondition(JSONNumber.isValidLiteral(text), "not a JSON number literal: \(text)")
        self.text = text
    }

    /// Validates `text` as an RFC 8259 number literal; nil when it is not one.
    public init?(validating text: String) {
        guard JSONNumber.isValidLiteral(text) else { return nil }
        self.text = text
    }

    /// For callers that have already checked the grammar (the parser).
    init(uncheckedText text: String) { self.text = text }

    /// An integer: `42` → `"42"`.
    public init(_ value: Int64) { self.text = String(value) }

    /// An integer: `42` → `"42"` (also what an integer literal picks: `JSONNumber(42)`).
    public init(_ value: Int) { self.text = String(value) }

    /// A whole number of thousandths as a decimal: `12345` → `"12.345"`, `12000` → `"12"`,
    /// `12300` → `"12.3"`, `-5` → `"-0.005"`.
    public static func milli(_ value: Int64) -> JSONNumber {
        let negative = value < 0
        let magnitude = value.magnitude
        let whole = magnitude / 1000
        var fraction = magnitude % 1000
        var text = negative ? "-" : ""
        text += String(whole)
        if fraction != 0 {
            var places = 3
            while fraction % 10 == 0 { fraction /= 10; places -= 1 }
            let digits = String(fraction)
            text += "." + String(repeating: "0", count: places - digits.count) + digits
        }
        return JSONNumber(uncheckedText: text)
    }

    /// A finite `Double` in its shortest round-trip form: `4.5` → `"4.5"`, `0` → `"0"`, `3.0` → `"3"`,
    /// `1e20` → `"1e+20"`. Precondition: `value.isFinite`.
    public init(_ value: Double) {
        precondition(value.isFinite, "JSON cannot represent \(value)")
        if value == 0 { self.text = "0"; return }
        var text = "\(value)"   // Swift prints the shortest representation that round-trips
        if text.hasSuffix(".0") { text.removeLast(2) }
        self.text = text
    }

    public var description: String { text }

    /// The exact integer value when the number is integral and fits in `Int64` (`"1e3"`, `"2.0"` and
    /// `"-0"` are integral; `"1.5"` and `"9223372036854775808"` are not accepted).
    public var int64: Int64? {
        if case .value(let v) = scaledResult(decimals: 0) { return v }
        return nil
    }

    /// The nearest `Double`; nil when the literal is outside `Double`'s finite range (`"1e400"`).
    public var double: Double? {
        guard let d = Double(text), d.isFinite else { return nil }
        return d
    }

    /// The value times 10^decimals, exactly: `"12.345".scaled(decimals: 3)` = 12345,
    /// `"1e-3".scaled(decimals: 3)` = 1. Nil when the value has more significant places than
    /// `decimals` (`"12.3456"` at 3) or the result does not fit in `Int64`. Trailing zeros are not
    /// places: `"12.3000".scaled(decimals: 3)` = 12300.
    public func scaled(decimals: Int) -> Int64? {
        if case .value(let v) = scaledResult(decimals: decimals) { return v }
        return nil
    }

    /// Places after the decimal point once the exponent is applied, counting the literal's digits
    /// as written: `"1.50"` → 2, `"1e-3"` → 3, `"12"` → 0, `"1.5e1"` → 0.
    public func decimalPlaces() -> Int {
        let parts = decompose()
        return max(0, parts.fractionDigits - parts.exponent)
    }

    // MARK: Exact arithmetic on the literal

    /// The outcome of scaling to fixed point.
    public enum ScaleResult: Equatable {
        case value(Int64)
        /// More significant decimal places than asked for.
        case tooPrecise
        /// The magnitude does not fit in `Int64`; `negative` tells which side.
        case overflow(negative: Bool)
    }

    private struct Parts {
        var negative: Bool
        /// All mantissa digits (integer part then fraction part), ASCII.
        var digits: [UInt8]
        var fractionDigits: Int
        /// The exponent, saturated to ±1e9 so it never overflows.
        var exponent: Int
    }

    private func decompose() -> Parts {
        let bytes = Array(text.utf8)
        var i = 0
        var negative = false
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") { negative = true; i += 1 }
        var digits: [UInt8] = []
        digits.reserveCapacity(bytes.count)
        while i < bytes.count, isDigit(bytes[i]) { digits.append(bytes[i]); i += 1 }
        var fractionDigits = 0
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            while i < bytes.count, isDigit(bytes[i]) { digits.append(bytes[i]); fractionDigits += 1; i += 1 }
        }
        var exponent = 0
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            var expNegative = false
            if i < bytes.count, bytes[i] == UInt8(ascii: "-") { expNegative = true; i += 1 }
            else if i < bytes.count, bytes[i] == UInt8(ascii: "+") { i += 1 }
            let cap = 1_000_000_000
            while i < bytes.count, isDigit(bytes[i]) {
                if exponent < cap { exponent = exponent * 10 + Int(bytes[i] &- 48) }
                i += 1
            }
            exponent = min(exponent, cap)
            if expNegative { exponent = -exponent }
        }
        return Parts(negative: negative, digits: digits, fractionDigits: fractionDigits, exponent: exponent)
    }

    public func scaledResult(decimals: Int) -> ScaleResult {
        let parts = decompose()
        var digits = parts.digits[...]
        while let first = digits.first, first == UInt8(ascii: "0") { digits.removeFirst() }
        if digits.isEmpty { return .value(0) }
        var trailingZeros = 0
        while let last = digits.last, last == UInt8(ascii: "0") { digits.removeLast(); trailingZeros += 1 }
        // value = digits × 10^power
        let power = parts.exponent - parts.fractionDigits + trailingZeros + decimals
        if power < 0 { return .tooPrecise }
        if digits.count + power > 19 { return .overflow(negative: parts.negative) }
        var magnitude: UInt64 = 0
        for d in digits {
            let (m, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(d &- 48))
            if o1 || o2 { return .overflow(negative: parts.negative) }
            magnitude = a
        }
        for _ in 0..<power {
            let (m, o) = magnitude.multipliedReportingOverflow(by: 10)
            if o { return .overflow(negative: parts.negative) }
            magnitude = m
        }
        if parts.negative {
            if magnitude <= UInt64(Int64.max) { return .value(-Int64(magnitude)) }
            if magnitude == UInt64(Int64.max) + 1 { return .value(Int64.min) }
            return .overflow(negative: true)
        }
        if magnitude <= UInt64(Int64.max) { return .value(Int64(magnitude)) }
        return .overflow(negative: false)
    }

    // MARK: Grammar

    /// True when `text` matches `-? (0 | [1-9][0-9]*) (\.[0-9]+)? ([eE][+-]?[0-9]+)?`.
    public static func isValidLiteral(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return literalLength(bytes, from: 0) == bytes.count && !bytes.isEmpty
    }

    /// The length of the longest valid number literal starting at `from`, or nil when none starts there.
    static func literalLength(_ bytes: [UInt8], from start: Int) -> Int? {
        var i = start
        let n = bytes.count
        if i < n, bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard i < n, isDigit(bytes[i]) else { return nil }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
        } else {
            while i < n, isDigit(bytes[i]) { i += 1 }
        }
        if i < n, bytes[i] == UInt8(ascii: ".") {
            i += 1
            guard i < n, isDigit(bytes[i]) else { return nil }
            while i < n, isDigit(bytes[i]) { i += 1 }
        }
        if i < n, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < n, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard i < n, isDigit(bytes[i]) else { return nil }
            while i < n, isDigit(bytes[i]) { i += 1 }
        }
        return i - start
    }

    /// Reads a number typed by a person (a query parameter): surrounding whitespace, a leading `+`,
    /// `.5` and `5.` are accepted and normalised to a JSON literal. Nil when it is not a number.
    public static func lenient(_ raw: String) -> JSONNumber? {
        var bytes = Array(raw.utf8)
        while let f = bytes.first, isSpace(f) { bytes.removeFirst() }
        while let l = bytes.last, isSpace(l) { bytes.removeLast() }
        var out: [UInt8] = []
        var i = 0
        if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") {
            if bytes[i] == UInt8(ascii: "-") { out.append(bytes[i]) }
            i += 1
        }
        var intDigits: [UInt8] = []
        while i < bytes.count, isDigit(bytes[i]) { intDigits.append(bytes[i]); i += 1 }
        var fracDigits: [UInt8] = []
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            while i < bytes.count, isDigit(bytes[i]) { fracDigits.append(bytes[i]); i += 1 }
        }
        guard !intDigits.isEmpty || !fracDigits.isEmpty else { return nil }
        while intDigits.count > 1, intDigits[0] == UInt8(ascii: "0") { intDigits.removeFirst() }
        out += intDigits.isEmpty ? [UInt8(ascii: "0")] : intDigits
        if !fracDigits.isEmpty { out.append(UInt8(ascii: ".")); out += fracDigits }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            out.append(UInt8(ascii: "e"))
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { out.append(bytes[i]); i += 1 }
            var expDigits = 0
            while i < bytes.count, isDigit(bytes[i]) { out.append(bytes[i]); i += 1; expDigits += 1 }
            guard expDigits > 0 else { return nil }
        }
        guard i == bytes.count else { return nil }
        return JSONNumber(validating: String(decoding: out, as: UTF8.self))
    }
}

@inline(__always) public func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }
@inline(__always) public func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }

// MARK: - Objects

/// A JSON object that keeps its members in order.
///
/// Keys are unique: a duplicate key (in a parsed document, a literal or `init`) keeps the position of
/// its first occurrence and the value of its last — what Python's `json` module does. Equality ignores
/// member order.
public struct JSONObject: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    public typealias Element = (key: String, value: JSONValue)

    public private(set) var members: [Element]
    private var index: [String: Int]

    public init(_ members: [(String, JSONValue)] = []) {
        self.members = []
        self.index = [:]
        self.members.reserveCapacity(members.count)
        self.index.reserveCapacity(members.count)
        for (key, value) in members { self[key] = value }
    }

    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements)
    }

    /// Get: the member's value, nil when absent. Set: replaces the value in place when the key exists,
    /// appends otherwise; setting nil removes the member.
    public subscript(key: String) -> JSONValue? {
        get { index[key].map { members[$0].value } }
        set {
            if let position = index[key] {
                if let newValue {
                    members[position].value = newValue
                } else {
                    members.remove(at: position)
                    index[key] = nil
                    for i in position..<members.count { index[members[i].key] = i }
                }
            } else if let newValue {
                index[key] = members.count
                members.append((key: key, value: newValue))
            }
        }
    }

    public var keys: [String] { members.map(\.key) }
    public var values: [JSONValue] { members.map(\.value) }
    public var count: Int { members.count }
    public var isEmpty: Bool { members.isEmpty }

    public func makeIterator() -> IndexingIterator<[Element]> { members.makeIterator() }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.members.count == rhs.members.count else { return false }
        for (key, value) in lhs.members {
            guard let other = rhs[key], other == value else { return false }
        }
        return true
    }
}

// MARK: - Literals and accessors

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .number(JSONNumber(value)) }
    public init(floatLiteral value: Double) { self = .number(JSONNumber(value)) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(JSONObject(elements)) }
    public init(nilLiteral: ()) { self = .null }
}

extension JSONValue {
    /// `.string(value)`, or `.null` for nil.
    public init(optional value: String?) { self = value.map { .string($0) } ?? .null }
    /// `.number(value)`, or `.null` for nil.
    public init(optional value: Int64?) { self = value.map { .number(JSONNumber($0)) } ?? .null }
    /// `.bool(value)`, or `.null` for nil.
    public init(optional value: Bool?) { self = value.map { .bool($0) } ?? .null }
    /// The value, or `.null` for nil.
    public init(optional value: JSONValue?) { self = value ?? .null }

    /// Milli-credits as a decimal number: `.credits(12345)` is `12.345`.
    public static func credits(_ milli: Int64) -> JSONValue { .number(.milli(milli)) }

    public var isNull: Bool { if case .null = self { return true } else { return false } }
    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    public var numberValue: JSONNumber? { if case .number(let n) = self { return n } else { return nil } }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }
    public var objectValue: JSONObject? { if case .object(let o) = self { return o } else { return nil } }

    /// The member `key` of an object; nil when absent or when this is not an object.
    public subscript(key: String) -> JSONValue? { objectValue?[key] }
    /// Element `index` of an array; nil when out of bounds or when this is not an array.
    public subscript(index: Int) -> JSONValue? {
        guard case .array(let a) = self, a.indices.contains(index) else { return nil }
        return a[index]
    }
}
