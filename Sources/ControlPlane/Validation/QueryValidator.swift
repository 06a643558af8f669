// Reads URL query parameters the way FastAPI does, collecting every problem at loc ["query", name].
//
//     var q = QueryValidator(request.queryPairs)
//     let skip = q.int("skip", default: 0, min: 0)
//     let limit = q.int("limit", default: 20, min: 1, max: 100)
//     let maxPrice = q.credits("max_price", minMilli: 0)
//     let tags = q.all("tags")
//     try q.finish()
//
// Values arrive percent-decoded. A repeated name: scalar accessors read the last occurrence (as
// Starlette does); `all` and `stringList` read every one. An absent parameter yields `default`
// (nil unless given), unvalidated. An empty value (`?limit=`) is a value and is validated.

public struct QueryValidator: Sendable {
    public let parameters: [(name: String, value: String)]
    public private(set) var issues: [ValidationIssue] = []

    public init(_ parameters: [(name: String, value: String)]) {
        self.parameters = parameters
    }

    /// No issues so far.
    public var isValid: Bool { issues.isEmpty }

    /// Throws a `ValidationFailure` listing every issue, if there are any.
    public func finish() throws(ValidationFailure) {
        if !issues.isEmpty { throw ValidationFailure(issues: issues) }
    }

    /// The last value given for `name`.
    public func value(_ name: String) -> String? {
        parameters.last(where: { $0.name == name })?.value
    }

    /// Every value given for `name`, in order (for repeatable parameters such as `tags`).
    public func all(_ name: String) -> [String] {
        parameters.filter { $0.name == name }.map(\.value)
    }

    public func has(_ name: String) -> Bool { parameters.contains { $0.name == name } }

    /// Records a `value_error` "Value error, <message>" at ["query", name].
    public mutating func fail(_ name: String, _ message: String) {
        record(name, IssueText(msg: "Value error, \(message)", type: "value_error"))
    }

    /// Records an arbitrary issue at ["query", name].
    public mutating func add(_ name: String, msg: String, type: String) {
        record(name, IssueText(msg: msg, type: type))
    }

    private mutating func record(_ name: String, _ issue: IssueText, index: Int? = nil) {
        var loc: [LocItem] = [.key("query"), .key(name)]
        if let index { loc.append(.index(index)) }
        issues.append(ValidationIssue(loc: loc, msg: issue.msg, type: issue.type))
    }

    // MARK: Accessors

    /// An integer: optional sign, digits, optionally `.0…` (pydantic accepts "5.0"); surrounding
    /// whitespace ignored. Anything else: `int_parsing`.
    public mutating func int(_ name: String, default defaultValue: Int64? = nil, min: Int64? = nil, max: Int64? = nil) -> Int64? {
        guard let raw = value(name) else { return defaultValue }
        guard let number = QueryValidator.integerLiteral(raw) else {
            record(name, IssueText(msg: "Input should be a valid integer, unable to parse string as an integer", type: "int_parsing"))
            return nil
        }
        switch number.scaledResult(decimals: 0) {
        case .value(let v):
            if let issue = ValidationMessages.range(v, min: min, max: max, format: String.init) {
                record(name, issue)
                return nil
            }
            return v
        case .tooPrecise:   // unreachable: the literal is integral
            record(name, IssueText(msg: "Input should be a valid integer, unable to parse string as an integer", type: "int_parsing"))
        case .overflow(let negative):
            record(name, ValidationMessages.intOverflow(negative: negative, min: min, max: max))
        }
        return nil
    }

    /// A finite number (`1`, `-2.5`, `.5`, `1e3`); anything else: `float_parsing`.
    public mutating func double(_ name: String, default defaultValue: Double? = nil, min: Double? = nil, max: Double? = nil) -> Double? {
        guard let raw = value(name) else { return defaultValue }
        guard let number = JSONNumber.lenient(raw) else {
            record(name, IssueText(msg: "Input should be a valid number, unable to parse string as a number", type: "float_parsing"))
            return nil
        }
        guard let d = number.double else {
            record(name, IssueText(msg: "Input should be a finite number", type: "finite_number"))
            return nil
        }
        if let issue = ValidationMessages.range(d, min: min, max: max, format: ValidationMessages.formatDouble) {
            record(name, issue)
            return nil
        }
        return d
    }

    /// Credits, exactly, in milli-credits (at most 3 decimal places; bounds and default in milli,
    /// messages in credits). Not a number: `decimal_parsing` "Input should be a valid decimal".
    public mutating func credits(_ name: String, default defaultMilli: Int64? = nil, minMilli: Int64? = nil, maxMilli: Int64? = nil) -> Int64? {
        guard let raw = value(name) else { return defaultMilli }
        guard let number = JSONNumber.lenient(raw) else {
            record(name, IssueText(msg: "Input should be a valid decimal", type: "decimal_parsing"))
            return nil
        }
        let (milli, issue) = ValidationMessages.credits(number, minMilli: minMilli, maxMilli: maxMilli)
        if let issue { record(name, issue) }
        return milli
    }

    /// The string as given (lengths in Characters).
    public mutating func string(_ name: String, default defaultValue: String? = nil, minLength: Int? = nil, maxLength: Int? = nil) -> String? {
        guard let raw = value(name) else { return defaultValue }
        if let issue = ValidationMessages.stringLength(raw, minLength: minLength, maxLength: maxLength) {
            record(name, issue)
            return nil
        }
        return raw
    }

    /// Every value of a repeatable parameter, each checked; issues at ["query", name, index].
    public mutating func stringList(_ name: String, maxItems: Int? = nil, itemMinLength: Int? = nil, itemMaxLength: Int? = nil) -> [String] {
        let values = all(name)
        if let maxItems, values.count > maxItems {
            record(name, IssueText(msg: "List should have at most \(ValidationMessages.plural(maxItems, "item")) after validation, not \(values.count)", type: "too_long"))
            return []
        }
        var result: [String] = []
        for (i, v) in values.enumerated() {
            if let issue = ValidationMessages.stringLength(v, minLength: itemMinLength, maxLength: itemMaxLength) {
                record(name, issue, index: i)
            } else {
                result.append(v)
            }
        }
        return result
    }

    /// One of `E`'s raw values, exactly; anything else: `enum` "Input should be 'a', 'b' or 'c'".
    public mutating func enumeration<E: RawRepresentable & CaseIterable>(_ name: String, _ type: E.Type, default defaultValue: E? = nil) -> E? where E.RawValue == String {
        guard let raw = value(name) else { return defaultValue }
        if let e = E(rawValue: raw) { return e }
        record(name, IssueText(msg: ValidationMessages.enumMessage(E.allCases.map(\.rawValue)), type: "enum"))
        return nil
    }

    /// true/false, 1/0, yes/no, on/off, t/f, y/n in any case (pydantic's set); else `bool_parsing`.
    public mutating func bool(_ name: String, default defaultValue: Bool? = nil) -> Bool? {
        guard let raw = value(name) else { return defaultValue }
        switch raw.lowercased() {
        case "true", "1", "yes", "on", "t", "y": return true
        case "false", "0", "no", "off", "f", "n": return false
        default:
            record(name, IssueText(msg: "Input should be a valid boolean, unable to interpret input", type: "bool_parsing"))
            return nil
        }
    }

    // MARK: Parsing

    /// `[+-]?[0-9]+(\.0*)?` with surrounding whitespace, as a JSON literal.
    static func integerLiteral(_ raw: String) -> JSONNumber? {
        var bytes = Array(raw.utf8)[...]
        while let f = bytes.first, isSpace(f) { bytes.removeFirst() }
        while let l = bytes.last, isSpace(l) { bytes.removeLast() }
        var i = bytes.startIndex
        if i < bytes.endIndex, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
        let digitsStart = i
        while i < bytes.endIndex, isDigit(bytes[i]) { i += 1 }
        guard i > digitsStart else { return nil }
        if i < bytes.endIndex, bytes[i] == UInt8(ascii: ".") {
            i += 1
            while i < bytes.endIndex, bytes[i] == UInt8(ascii: "0") { i += 1 }
        }
        guard i == bytes.endIndex else { return nil }
        return JSONNumber.lenient(String(decoding: bytes, as: UTF8.self))
    }
}
