// Reads the fields of a parsed JSON body the way a pydantic v2 model would, collecting every problem
// (with pydantic's messages and types) instead of stopping at the first.
//
//     var v = BodyValidator(body)
//     let name = v.string("name", minLength: 3, maxLength: 100)
//     let price = v.credits("price_per_run", minMilli: 1_000, maxMilli: 10_000_000)
//     let config = v.nested("config") { c in c.int("max_tokens", min: 100, max: 32000) }
//     try v.finish()                       // throws ValidationFailure listing every issue
//     // from here on every required value is non-nil
//
// Conventions:
// - A required field that is absent gets `missing` / "Field required"; one that is `null` gets the
//   field's type error (as pydantic does).
// - `optional…` accessors return `Field<T>`: `.absent` when the key is missing, `.null` when it is
//   `null`, `.value` otherwise. An invalid value records its issue and reads as `.absent`.
// - String lengths are counted in Characters (extended grapheme clusters), so "é" is one character
//   whether or not it is precomposed, and a flag emoji is one character.
// - When the body is not an object, only that one issue is recorded and every accessor returns nil.

/// A field that may be absent, present as `null`, or present with a value — what a PATCH needs.
public enum Field<T> {
    case absent
    case null
    case value(T)

    /// The value, nil when absent or null.
    public var value: T? {
        if case .value(let v) = self { return v }
        return nil
    }

    public var isAbsent: Bool {
        if case .absent = self { return true }
        return false
    }

    /// Present, as `null` or a value.
    public var isPresent: Bool { !isAbsent }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    public func map<U>(_ transform: (T) throws -> U) rethrows -> Field<U> {
        switch self {
        case .absent: .absent
        case .null: .null
        case .value(let v): .value(try transform(v))
        }
    }
}

extension Field: Sendable where T: Sendable {}
extension Field: Equatable where T: Equatable {}

public struct BodyValidator: Sendable {
    /// Where this validator's object sits: `["body"]` at the top, longer for nested objects.
    public let loc: [LocItem]
    /// The JSON being validated.
    public let body: JSONValue
    /// The body as an object, nil when it is not one.
    public let object: JSONObject?
    public private(set) var issues: [ValidationIssue] = []
    private var readKeys: Set<String> = []

    /// Validates `body`, which should be an object; records `model_attributes_type` if it is not.
    public init(_ body: JSONValue, loc: [LocItem] = [.key("body")]) {
        self.init(body, loc: loc, notObjectType: "model_attributes_type",
                  notObjectMessage: "Input should be a valid dictionary or object to extract fields from")
    }

    init(_ body: JSONValue, loc: [LocItem], notObjectType: String, notObjectMessage: String) {
        self.loc = loc
        self.body = body
        if case .object(let o) = body {
            self.object = o
        } else {
            self.object = nil
            issues.append(ValidationIssue(loc: loc, msg: notObjectMessage, type: notObjectType))
        }
    }

    /// No issues so far.
    public var isValid: Bool { issues.isEmpty }

    /// Throws a `ValidationFailure` listing every issue, if there are any.
    public func finish() throws(ValidationFailure) {
        if !issues.isEmpty { throw ValidationFailure(issues: issues) }
    }

    // MARK: Issues

    /// Records a `value_error` "Value error, <message>" at loc + [key] (password rules and the like).
    public mutating func fail(_ key: String, _ message: String) {
        record(loc + [.key(key)], "Value error, \(message)", "value_error")
    }

    /// Records a `value_error` "Value error, <message>" at this validator's own loc.
    public mutating func fail(_ message: String) {
        record(loc, "Value error, \(message)", "value_error")
    }

    /// Records an arbitrary issue at loc + path.
    public mutating func add(_ path: [LocItem], msg: String, type: String) {
        record(loc + path, msg, type)
    }

    /// Records an issue as given (its loc is used as is).
    public mutating func add(_ issue: ValidationIssue) { issues.append(issue) }

    /// Takes over a child validator's issues.
    public mutating func merge(_ child: BodyValidator) { issues.append(contentsOf: child.issues) }

    /// Records `extra_forbidden` "Extra inputs are not permitted" for every key of the body that no
    /// accessor has read so far (pydantic's `extra="forbid"`). Call it after reading all fields.
    public mutating func rejectUnknownKeys() {
        guard let object else { return }
        for key in object.keys where !readKeys.contains(key) {
            record(loc + [.key(key)], "Extra inputs are not permitted", "extra_forbidden")
        }
    }

    private mutating func record(_ at: [LocItem], _ msg: String, _ type: String) {
        issues.append(ValidationIssue(loc: at, msg: msg, type: type))
    }

    // MARK: Core

    private enum Lookup { case absent, null, value(JSONValue) }

    /// Nil when the body is not an object (its one issue is already recorded).
    private mutating func lookup(_ key: String) -> Lookup? {
        guard let object else { return nil }
        readKeys.insert(key)
        switch object[key] {
        case nil: return .absent
        case .null?: return .null
        case let value?: return .value(value)
        }
    }

    // MARK: Strings

    public mutating func string(_ key: String, minLength: Int? = nil, maxLength: Int? = nil) -> String? {
        required(key) { $0.convertString($1, $2, minLength, maxLength) }
    }

    public mutating func optionalString(_ key: String, minLength: Int? = nil, maxLength: Int? = nil) -> Field<String> {
        optional(key) { $0.convertString($1, $2, minLength, maxLength) }
    }

    mutating func convertString(_ value: JSONValue, _ at: [LocItem], _ minLength: Int?, _ maxLength: Int?) -> String? {
        guard case .string(let s) = value else {
            record(at, "Input should be a valid string", "string_type")
            return nil
        }
        if let issue = ValidationMessages.stringLength(s, minLength: minLength, maxLength: maxLength) {
            record(at, issue.msg, issue.type)
            return nil
        }
        return s
    }

    /// A string that must be an email address (see `EmailAddress`); returns it lowercased.
    public mutating func email(_ key: String) -> String? {
        required(key) { $0.convertEmail($1, $2) }
    }

    public mutating func optionalEmail(_ key: String) -> Field<String> {
        optional(key) { $0.convertEmail($1, $2) }
    }

    mutating func convertEmail(_ value: JSONValue, _ at: [LocItem]) -> String? {
        guard let s = convertString(value, at, nil, nil) else { return nil }
        if let problem = EmailAddress.problem(with: s) {
            record(at, "value is not a valid email address: \(problem)", "value_error")
            return nil
        }
        return EmailAddress.normalize(s)
    }

    // MARK: Numbers

    /// A JSON number with an integral value (`3`, `3.0`, `3e0`); bools and strings get `int_type`,
    /// `1.5` gets `int_from_float`. Beyond Int64: the bound it breaks, else `int_parsing_size`.
    public mutating func int(_ key: String, min: Int64? = nil, max: Int64? = nil) -> Int64? {
        required(key) { $0.convertInt($1, $2, min, max) }
    }

    public mutating func optionalInt(_ key: String, min: Int64? = nil, max: Int64? = nil) -> Field<Int64> {
        optional(key) { $0.convertInt($1, $2, min, max) }
    }

    mutating func convertInt(_ value: JSONValue, _ at: [LocItem], _ min: Int64?, _ max: Int64?) -> Int64? {
        guard case .number(let n) = value else {
            record(at, "Input should be a valid integer", "int_type")
            return nil
        }
        switch n.scaledResult(decimals: 0) {
        case .value(let v):
            if let issue = ValidationMessages.range(v, min: min, max: max, format: String.init) {
                record(at, issue.msg, issue.type)
                return nil
            }
            return v
        case .tooPrecise:
            record(at, "Input should be a valid integer, got a number with a fractional part", "int_from_float")
        case .overflow(let negative):
            let issue = ValidationMessages.intOverflow(negative: negative, min: min, max: max)
            record(at, issue.msg, issue.type)
        }
        return nil
    }

    /// Any finite JSON number (not a bool or string): `float_type`; `1e400` gets `finite_number`.
    public mutating func double(_ key: String, min: Double? = nil, max: Double? = nil) -> Double? {
        required(key) { $0.convertDouble($1, $2, min, max) }
    }

    public mutating func optionalDouble(_ key: String, min: Double? = nil, max: Double? = nil) -> Field<Double> {
        optional(key) { $0.convertDouble($1, $2, min, max) }
    }

    mutating func convertDouble(_ value: JSONValue, _ at: [LocItem], _ min: Double?, _ max: Double?) -> Double? {
        guard case .number(let n) = value else {
            record(at, "Input should be a valid number", "float_type")
            return nil
        }
        guard let d = n.double else {
            record(at, "Input should be a finite number", "finite_number")
            return nil
        }
        if let issue = ValidationMessages.range(d, min: min, max: max, format: ValidationMessages.formatDouble) {
            record(at, issue.msg, issue.type)
            return nil
        }
        return d
    }

    /// Credits, exactly, as milli-credits: a JSON number (or a numeric string, as pydantic's Decimal
    /// accepts) with at most 3 decimal places. Bounds are in milli-credits; messages print them in
    /// credits ("Input should be greater than or equal to 1" for `minMilli: 1000`).
    public mutating func credits(_ key: String, minMilli: Int64? = nil, maxMilli: Int64? = nil) -> Int64? {
        required(key) { $0.convertCredits($1, $2, minMilli, maxMilli) }
    }

    public mutating func optionalCredits(_ key: String, minMilli: Int64? = nil, maxMilli: Int64? = nil) -> Field<Int64> {
        optional(key) { $0.convertCredits($1, $2, minMilli, maxMilli) }
    }

    mutating func convertCredits(_ value: JSONValue, _ at: [LocItem], _ minMilli: Int64?, _ maxMilli: Int64?) -> Int64? {
        let number: JSONNumber
        switch value {
        case .number(let n):
            number = n
        case .string(let s):
            guard let n = JSONNumber.lenient(s) else {
                record(at, "Input should be a valid decimal", "decimal_parsing")
                return nil
            }
            number = n
        default:
            record(at, "Input should be a valid number", "decimal_type")
            return nil
        }
        return checkCredits(number, at, minMilli, maxMilli)
    }

    mutating func checkCredits(_ number: JSONNumber, _ at: [LocItem], _ minMilli: Int64?, _ maxMilli: Int64?) -> Int64? {
        let (milli, issue) = ValidationMessages.credits(number, minMilli: minMilli, maxMilli: maxMilli)
        if let issue { record(at, issue.msg, issue.type) }
        return milli
    }

    // MARK: Booleans and enumerations

    public mutating func bool(_ key: String) -> Bool? {
        required(key) { $0.convertBool($1, $2) }
    }

    public mutating func optionalBool(_ key: String) -> Field<Bool> {
        optional(key) { $0.convertBool($1, $2) }
    }

    mutating func convertBool(_ value: JSONValue, _ at: [LocItem]) -> Bool? {
        guard case .bool(let b) = value else {
            record(at, "Input should be a valid boolean", "bool_type")
            return nil
        }
        return b
    }

    /// A string that must be one of `E`'s raw values; anything else gets `enum` "Input should be 'a', 'b' or 'c'".
    public mutating func enumeration<E: RawRepresentable & CaseIterable>(_ key: String, _ type: E.Type) -> E? where E.RawValue == String {
        required(key) { $0.convertEnum($1, $2, type) }
    }

    public mutating func optionalEnumeration<E: RawRepresentable & CaseIterable>(_ key: String, _ type: E.Type) -> Field<E> where E.RawValue == String {
        optional(key) { $0.convertEnum($1, $2, type) }
    }

    mutating func convertEnum<E: RawRepresentable & CaseIterable>(_ value: JSONValue, _ at: [LocItem], _ type: E.Type) -> E? where E.RawValue == String {
        if case .string(let s) = value, let e = E(rawValue: s) { return e }
        record(at, ValidationMessages.enumMessage(E.allCases.map(\.rawValue)), "enum")
        return nil
    }

    // MARK: Lists

    public mutating func stringList(_ key: String, minItems: Int? = nil, maxItems: Int? = nil,
                                    itemMinLength: Int? = nil, itemMaxLength: Int? = nil) -> [String]? {
        required(key) { $0.convertStringList($1, $2, minItems, maxItems, itemMinLength, itemMaxLength) }
    }

    public mutating func optionalStringList(_ key: String, minItems: Int? = nil, maxItems: Int? = nil,
                                            itemMinLength: Int? = nil, itemMaxLength: Int? = nil) -> Field<[String]> {
        optional(key) { $0.convertStringList($1, $2, minItems, maxItems, itemMinLength, itemMaxLength) }
    }

    mutating func convertStringList(_ value: JSONValue, _ at: [LocItem], _ minItems: Int?, _ maxItems: Int?,
                                    _ itemMinLength: Int?, _ itemMaxLength: Int?) -> [String]? {
        convertList(value, at, minItems, maxItems) { v, element, elementLoc in
            v.convertString(element, elementLoc, itemMinLength, itemMaxLength)
        }
    }

    /// A list of objects, each read by `each` with a validator at loc + [key, index].
    /// Elements that are not objects get `dict_type` "Input should be a valid dictionary".
    public mutating func list<T>(_ key: String, minItems: Int? = nil, maxItems: Int? = nil,
                                 each: (inout BodyValidator) throws -> T?) rethrows -> [T]? {
        try required(key) { v, value, at in
            try v.convertList(value, at, minItems, maxItems) { v, element, elementLoc in
                try v.child(element, elementLoc, each)
            }
        }
    }

    public mutating func optionalList<T>(_ key: String, minItems: Int? = nil, maxItems: Int? = nil,
                                         each: (inout BodyValidator) throws -> T?) rethrows -> Field<[T]> {
        try optional(key) { v, value, at in
            try v.convertList(value, at, minItems, maxItems) { v, element, elementLoc in
                try v.child(element, elementLoc, each)
            }
        }
    }

    /// pydantic's order: a list over `maxItems` gets only `too_long`; otherwise every element is
    /// checked and then `minItems`. Nil when anything in the list had an issue.
    private mutating func convertList<T>(_ value: JSONValue, _ at: [LocItem], _ minItems: Int?, _ maxItems: Int?,
                                         _ element: (inout BodyValidator, JSONValue, [LocItem]) throws -> T?) rethrows -> [T]? {
        guard case .array(let elements) = value else {
            record(at, "Input should be a valid list", "list_type")
            return nil
        }
        if let maxItems, elements.count > maxItems {
            record(at, "List should have at most \(ValidationMessages.plural(maxItems, "item")) after validation, not \(elements.count)", "too_long")
            return nil
        }
        let before = issues.count
        var result: [T] = []
        result.reserveCapacity(elements.count)
        for (i, e) in elements.enumerated() {
            if let t = try element(&self, e, at + [.index(i)]) { result.append(t) }
        }
        if let minItems, elements.count < minItems {
            record(at, "List should have at least \(ValidationMessages.plural(minItems, "item")) after validation, not \(elements.count)", "too_short")
        }
        return issues.count == before ? result : nil
    }

    // MARK: Objects

    /// A required nested object, read by `body` with a validator at loc + [key]. Not an object:
    /// `dict_type` "Input should be a valid dictionary". Nil when the object had any issue.
    public mutating func nested<T>(_ key: String, _ body: (inout BodyValidator) throws -> T?) rethrows -> T? {
        try required(key) { v, value, at in try v.child(value, at, body) }
    }

    public mutating func optionalNested<T>(_ key: String, _ body: (inout BodyValidator) throws -> T?) rethrows -> Field<T> {
        try optional(key) { v, value, at in try v.child(value, at, body) }
    }

    /// A nested validator at loc + [key] whose issues the caller must `merge` back; nil when the
    /// field is absent, null or not an object (the issue is recorded here). Prefer `nested`.
    public mutating func object(_ key: String) -> BodyValidator? {
        required(key) { v, value, at in
            guard case .object = value else {
                v.record(at, "Input should be a valid dictionary", "dict_type")
                return nil
            }
            return BodyValidator(value, loc: at)
        }
    }

    private mutating func child<T>(_ value: JSONValue, _ at: [LocItem], _ body: (inout BodyValidator) throws -> T?) rethrows -> T? {
        var child = BodyValidator(value, loc: at, notObjectType: "dict_type", notObjectMessage: "Input should be a valid dictionary")
        guard child.object != nil else {
            merge(child)
            return nil
        }
        let result = try body(&child)
        merge(child)
        return child.issues.isEmpty ? result : nil
    }

    /// Any JSON object (`dict` in pydantic), members unchecked.
    public mutating func dictionary(_ key: String) -> JSONObject? {
        required(key) { $0.convertDictionary($1, $2) }
    }

    public mutating func optionalDictionary(_ key: String) -> Field<JSONObject> {
        optional(key) { $0.convertDictionary($1, $2) }
    }

    mutating func convertDictionary(_ value: JSONValue, _ at: [LocItem]) -> JSONObject? {
        guard case .object(let o) = value else {
            record(at, "Input should be a valid dictionary", "dict_type")
            return nil
        }
        return o
    }

    /// Any JSON value, `null` included (pydantic's `Any`); only absence is an issue.
    public mutating func raw(_ key: String) -> JSONValue? {
        required(key) { _, value, _ in value }
    }

    public mutating func optionalRaw(_ key: String) -> Field<JSONValue> {
        optional(key) { _, value, _ in value }
    }

    // MARK: Core accessors

    /// A required field: `missing` when absent; `convert` sees everything else, `null` included.
    private mutating func required<T>(_ key: String, _ convert: (inout BodyValidator, JSONValue, [LocItem]) throws -> T?) rethrows -> T? {
        guard let found = lookup(key) else { return nil }
        let at = loc + [.key(key)]
        switch found {
        case .absent:
            record(at, "Field required", "missing")
            return nil
        case .null:
            return try convert(&self, .null, at)
        case .value(let v):
            return try convert(&self, v, at)
        }
    }

    private mutating func optional<T>(_ key: String, _ convert: (inout BodyValidator, JSONValue, [LocItem]) throws -> T?) rethrows -> Field<T> {
        guard let found = lookup(key) else { return .absent }
        switch found {
        case .absent: return .absent
        case .null: return .null
        case .value(let v):
            if let t = try convert(&self, v, loc + [.key(key)]) { return .value(t) }
            return .absent
        }
    }
}

// MARK: - Messages shared with QueryValidator

struct IssueText: Equatable {
    var msg: String
    var type: String
}

enum ValidationMessages {
    /// "1 item", "2 items".
    static func plural(_ n: Int, _ noun: String) -> String { n == 1 ? "\(n) \(noun)" : "\(n) \(noun)s" }

    static func stringLength(_ s: String, minLength: Int?, maxLength: Int?) -> IssueText? {
        guard minLength != nil || maxLength != nil else { return nil }
        let length = s.count
        if let minLength, length < minLength {
            return IssueText(msg: "String should have at least \(plural(minLength, "character"))", type: "string_too_short")
        }
        if let maxLength, length > maxLength {
            return IssueText(msg: "String should have at most \(plural(maxLength, "character"))", type: "string_too_long")
        }
        return nil
    }

    static func range<N: Comparable>(_ v: N, min: N?, max: N?, format: (N) -> String) -> IssueText? {
        if let min, v < min {
            return IssueText(msg: "Input should be greater than or equal to \(format(min))", type: "greater_than_equal")
        }
        if let max, v > max {
            return IssueText(msg: "Input should be less than or equal to \(format(max))", type: "less_than_equal")
        }
        return nil
    }

    /// An integral value outside Int64: a bound it breaks, else pydantic's size error.
    static func intOverflow(negative: Bool, min: Int64?, max: Int64?) -> IssueText {
        if negative, let min {
            return IssueText(msg: "Input should be greater than or equal to \(min)", type: "greater_than_equal")
        }
        if !negative, let max {
            return IssueText(msg: "Input should be less than or equal to \(max)", type: "less_than_equal")
        }
        return IssueText(msg: "Unable to parse input string as an integer, exceeded maximum size", type: "int_parsing_size")
    }

    /// Bounds print like Python would print the int or float written in the schema: 2 → "2", 0.5 → "0.5".
    static func formatDouble(_ d: Double) -> String { d.isFinite ? JSONNumber(d).text : "\(d)" }

    /// "Input should be 'a'", "Input should be 'a' or 'b'", "Input should be 'a', 'b' or 'c'".
    static func enumMessage(_ cases: [String]) -> String {
        let quoted = cases.map { "'\($0)'" }
        switch quoted.count {
        case 0: return "Input should be a valid enumeration member"
        case 1: return "Input should be \(quoted[0])"
        default: return "Input should be \(quoted.dropLast().joined(separator: ", ")) or \(quoted.last!)"
        }
    }

    /// Credits to milli-credits: decimal places first, then bounds (pydantic's Decimal order). The
    /// milli value is nil exactly when there is an issue.
    static func credits(_ number: JSONNumber, minMilli: Int64?, maxMilli: Int64?) -> (Int64?, IssueText?) {
        switch number.scaledResult(decimals: 3) {
        case .value(let milli):
            if let issue = range(milli, min: minMilli, max: maxMilli, format: { JSONNumber.milli($0).text }) {
                return (nil, issue)
            }
            return (milli, nil)
        case .tooPrecise:
            return (nil, IssueText(msg: "Decimal input should have no more than 3 decimal places", type: "decimal_max_places"))
        case .overflow(let negative):
            if negative {
                return (nil, IssueText(msg: "Input should be greater than or equal to \(JSONNumber.milli(minMilli ?? .min).text)", type: "greater_than_equal"))
            }
            return (nil, IssueText(msg: "Input should be less than or equal to \(JSONNumber.milli(maxMilli ?? .max).text)", type: "less_than_equal"))
        }
    }
}
