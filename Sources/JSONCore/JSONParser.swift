// A strict RFC 8259 parser. Iterative (an explicit stack, never recursion), so hostile nesting is
// a parse error rather than a stack overflow.

/// Why a document is not JSON: the byte offset where the problem was found and a short message.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public let offset: Int
    public let message: String

    public init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }

    public var description: String { "\(message) (at byte \(offset))" }
}

public enum JSONParser {
    /// Parses exactly one JSON value, optionally surrounded by whitespace.
    ///
    /// Strict RFC 8259: no comments, trailing commas, NaN/Infinity, leading zeros or `+`; strings must
    /// be valid UTF-8 (no overlongs, no encoded surrogates, nothing above U+10FFFF) without raw control
    /// characters, and `\u` escapes must pair surrogates. A leading UTF-8 byte order mark is rejected.
    /// Containers nested deeper than `maxDepth` are rejected. Numbers keep their literal text.
    /// Duplicate object keys: the last value wins (see `JSONObject`).
    public static func parse(_ bytes: some Collection<UInt8>, maxDepth: Int = 64) throws(JSONParseError) -> JSONValue {
        let result: Result<JSONValue, JSONParseError>
        if let direct = bytes.withContiguousStorageIfAvailable({ buffer in
            var parser = Parser(buffer, maxDepth: maxDepth)
            return parser.parseDocument()
        }) {
            result = direct
        } else {
            let copy = Array(bytes)
            result = copy.withUnsafeBufferPointer { buffer in
                var parser = Parser(buffer, maxDepth: maxDepth)
                return parser.parseDocument()
            }
        }
        return try result.get()
    }

    /// Parses the UTF-8 of `text`.
    public static func parse(_ text: String, maxDepth: Int = 64) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8), maxDepth: maxDepth)
    }
}

private struct ObjectBuilder {
    var members: [(String, JSONValue)] = []
    var pendingKey: String
}

private struct Parser {
    let p: UnsafeBufferPointer<UInt8>
    let end: Int
    let maxDepth: Int
    var i = 0
    /// Scratch for strings that need decoding.
    var scratch: [UInt8] = []

    init(_ buffer: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.p = buffer
        self.end = buffer.count
        self.maxDepth = max(0, maxDepth)
    }

    mutating func parseDocument() -> Result<JSONValue, JSONParseError> {
        do throws(JSONParseError) {
            if end >= 3, p[0] == 0xEF, p[1] == 0xBB, p[2] == 0xBF {
                throw JSONParseError(offset: 0, message: "Unexpected UTF-8 BOM")
            }
            let value = try parseValue()
            skipWhitespace()
            if i != end { throw JSONParseError(offset: i, message: "Extra data") }
            return .success(value)
        } catch {
            return .failure(error)
        }
    }

    @inline(__always) func fail(_ message: String, at offset: Int? = nil) -> JSONParseError {
        JSONParseError(offset: offset ?? i, message: message)
    }

    @inline(__always) mutating func skipWhitespace() {
        while i < end {
            let b = p[i]
            if b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { i += 1 } else { break }
        }
    }

    // MARK: Values

    /// Kinds of open containers, innermost last; `arrays` and `objects` hold their contents, so each
    /// append mutates in place (no copy-on-write churn).
    mutating func parseValue() throws(JSONParseError) -> JSONValue {
        var kinds: [Bool] = []          // true = array, false = object
        var arrays: [[JSONValue]] = []
        var objects: [ObjectBuilder] = []

        outer: while true {
            skipWhitespace()
            guard i < end else { throw fail("Expecting value") }
            var value: JSONValue
            switch p[i] {
            case UInt8(ascii: "["):
                if kinds.count >= maxDepth { throw fail("Nesting deeper than \(maxDepth) levels") }
                i += 1
                skipWhitespace()
                if i < end, p[i] == UInt8(ascii: "]") {
                    i += 1
                    value = .array([])
                } else {
                    kinds.append(true)
                    arrays.append([])
                    continue outer
                }
            case UInt8(ascii: "{"):
                if kinds.count >= maxDepth { throw fail("Nesting deeper than \(maxDepth) levels") }
                i += 1
                skipWhitespace()
                if i < end, p[i] == UInt8(ascii: "}") {
                    i += 1
                    value = .object(JSONObject())
                } else {
                    let key = try parseKey()
                    kinds.append(false)
                    objects.append(ObjectBuilder(pendingKey: key))
                    continue outer
                }
            case UInt8(ascii: "\""):
                value = .string(try parseString())
            case UInt8(ascii: "t"):
                try expectLiteral("true"); value = .bool(true)
            case UInt8(ascii: "f"):
                try expectLiteral("false"); value = .bool(false)
            case UInt8(ascii: "n"):
                try expectLiteral("null"); value = .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                value = .number(try parseNumber())
            default:
                throw fail("Expecting value")
            }

            // Attach the finished value to the open containers, closing as many as end here.
            while true {
                guard let isArray = kinds.last else { return value }
                skipWhitespace()
                if isArray {
                    arrays[arrays.count - 1].append(value)
                    guard i < end else { throw fail("Expecting ',' delimiter") }
                    if p[i] == UInt8(ascii: ",") {
                        i += 1
                        skipWhitespace()
                        if i < end, p[i] == UInt8(ascii: "]") {
                            throw fail("Illegal trailing comma before end of array")
                        }
                        continue outer
                    } else if p[i] == UInt8(ascii: "]") {
                        i += 1
                        kinds.removeLast()
                        value = .array(arrays.removeLast())
                    } else {
                        throw fail("Expecting ',' delimiter")
                    }
                } else {
                    let last = objects.count - 1
                    objects[last].members.append((objects[last].pendingKey, value))
                    guard i < end else { throw fail("Expecting ',' delimiter") }
                    if p[i] == UInt8(ascii: ",") {
                        i += 1
                        skipWhitespace()
                        if i < end, p[i] == UInt8(ascii: "}") {
                            throw fail("Illegal trailing comma before end of object")
                        }
                        objects[last].pendingKey = try parseKey()
                        continue outer
                    } else if p[i] == UInt8(ascii: "}") {
                        i += 1
                        kinds.removeLast()
                        value = .object(JSONObject(objects.removeLast().members))
                    } else {
                        throw fail("Expecting ',' delimiter")
                    }
                }
            }
        }
    }

    /// A member name and its ':'; whitespace before the name is already skipped.
    mutating func parseKey() throws(JSONParseError) -> String {
        guard i < end, p[i] == UInt8(ascii: "\"") else {
            throw fail("Expecting property name enclosed in double quotes")
        }
        let key = try parseString()
        skipWhitespace()
        guard i < end, p[i] == UInt8(ascii: ":") else { throw fail("Expecting ':' delimiter") }
        i += 1
        return key
    }

    mutating func expectLiteral(_ word: StaticString) throws(JSONParseError) {
        let count = word.utf8CodeUnitCount
        guard end - i >= count else { throw fail("Expecting value") }
        let w = word.utf8Start
        for k in 0..<count where p[i + k] != w[k] { throw fail("Expecting value") }
        i += count
    }

    // MARK: Numbers

    mutating func parseNumber() throws(JSONParseError) -> JSONNumber {
        let start = i
        if p[i] == UInt8(ascii: "-") { i += 1 }
        guard i < end, isDigit(p[i]) else { throw fail("Invalid number", at: start) }
        if p[i] == UInt8(ascii: "0") {
            i += 1
            if i < end, isDigit(p[i]) { throw fail("Leading zeros are not allowed", at: start) }
        } else {
            while i < end, isDigit(p[i]) { i += 1 }
        }
        if i < end, p[i] == UInt8(ascii: ".") {
            i += 1
            guard i < end, isDigit(p[i]) else { throw fail("Invalid number", at: start) }
            while i < end, isDigit(p[i]) { i += 1 }
        }
        if i < end, p[i] == UInt8(ascii: "e") || p[i] == UInt8(ascii: "E") {
            i += 1
            if i < end, p[i] == UInt8(ascii: "+") || p[i] == UInt8(ascii: "-") { i += 1 }
            guard i < end, isDigit(p[i]) else { throw fail("Invalid number", at: start) }
            while i < end, isDigit(p[i]) { i += 1 }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: p[start..<i]), as: UTF8.self)
        return JSONNumber(uncheckedText: text)
    }

    // MARK: Strings

    /// A string starting at the opening quote; leaves `i` after the closing quote.
    mutating func parseString() throws(JSONParseError) -> String {
        let open = i
        i += 1
        let start = i
        // Fast path: plain ASCII with no escapes.
        while i < end {
            let b = p[i]
            if b == UInt8(ascii: "\"") {
                let s = String(decoding: UnsafeBufferPointer(rebasing: p[start..<i]), as: UTF8.self)
                i += 1
                return s
            }
            if b == UInt8(ascii: "\\") || b < 0x20 || b >= 0x80 { break }
            i += 1
        }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: p[start..<i]))
        while true {
            guard i < end else { throw fail("Unterminated string", at: open) }
            let b = p[i]
            switch b {
            case UInt8(ascii: "\""):
                i += 1
                return String(decoding: scratch, as: UTF8.self)
            case UInt8(ascii: "\\"):
                try parseEscape()
            case 0..<0x20:
                throw fail("Invalid control character in string")
            case 0..<0x80:
                scratch.append(b)
                i += 1
            default:
                try copyUTF8Sequence()
            }
        }
    }

    /// Validates one multi-byte UTF-8 sequence at `i` (Unicode Table 3-7) and copies it to `scratch`.
    mutating func copyUTF8Sequence() throws(JSONParseError) {
        let b0 = p[i]
        var length: Int
        var lo: UInt8 = 0x80, hi: UInt8 = 0xBF   // allowed range of the second byte
        switch b0 {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; lo = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; hi = 0x9F          // U+D800...U+DFFF are not scalars
        case 0xF0: length = 4; lo = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; hi = 0x8F          // nothing above U+10FFFF
        default: throw fail("Invalid UTF-8")
        }
        guard end - i >= length else { throw fail("Invalid UTF-8") }
        let b1 = p[i + 1]
        guard b1 >= lo, b1 <= hi else { throw fail("Invalid UTF-8") }
        for k in 2..<max(2, length) where p[i + k] & 0xC0 != 0x80 { throw fail("Invalid UTF-8") }
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: p[i..<(i + length)]))
        i += length
    }

    mutating func parseEscape() throws(JSONParseError) {
        let start = i
        guard i + 1 < end else { throw fail("Invalid \\escape", at: start) }
        let c = p[i + 1]
        i += 2
        switch c {
        case UInt8(ascii: "\""): scratch.append(0x22)
        case UInt8(ascii: "\\"): scratch.append(0x5C)
        case UInt8(ascii: "/"): scratch.append(0x2F)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try hex4(escapeStart: start)
            if scalar >= 0xD800, scalar <= 0xDBFF {
                guard end - i >= 6, p[i] == UInt8(ascii: "\\"), p[i + 1] == UInt8(ascii: "u") else {
                    throw fail("Lone surrogate in \\u escape", at: start)
                }
                let secondStart = i
                i += 2
                let low = try hex4(escapeStart: secondStart)
                guard low >= 0xDC00, low <= 0xDFFF else { throw fail("Lone surrogate in \\u escape", at: start) }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if scalar >= 0xDC00, scalar <= 0xDFFF {
                throw fail("Lone surrogate in \\u escape", at: start)
            }
            appendUTF8(scalar)
        default:
            throw fail("Invalid \\escape", at: start)
        }
    }

    mutating func hex4(escapeStart: Int) throws(JSONParseError) -> UInt32 {
        guard end - i >= 4 else { throw fail("Invalid \\uXXXX escape", at: escapeStart) }
        var v: UInt32 = 0
        for k in 0..<4 {
            let b = p[i + k]
            let d: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = b - UInt8(ascii: "A") + 10
            default: throw fail("Invalid \\uXXXX escape", at: escapeStart)
            }
            v = v << 4 | UInt32(d)
        }
        i += 4
        return v
    }

    mutating func appendUTF8(_ v: UInt32) {
        switch v {
        case 0..<0x80:
            scratch.append(UInt8(v))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | (v >> 6)))
            scratch.append(UInt8(0x80 | (v & 0x3F)))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | (v >> 12)))
            scratch.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
            scratch.append(UInt8(0x80 | (v & 0x3F)))
        default:
            scratch.append(UInt8(0xF0 | (v >> 18)))
            scratch.append(UInt8(0x80 | ((v >> 12) & 0x3F)))
            scratch.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
            scratch.append(UInt8(0x80 | (v & 0x3F)))
        }
    }
}
