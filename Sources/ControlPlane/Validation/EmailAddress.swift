// A pragmatic email check (not full RFC 5322): what sign-up needs to reject typos and junk.

public enum EmailAddress {
    /// True when `address` looks deliverable: exactly one `@`; a local part of 1–64 characters drawn
    /// from the RFC 5322 atext set plus dots (not leading, trailing or doubled); a domain of at least
    /// two dot-separated labels, each 1–63 of `[A-Za-z0-9-]` not starting or ending with `-`, the last
    /// not all digits; no spaces or control characters; at most 254 characters in all.
    public static func isValid(_ address: String) -> Bool { problem(with: address) == nil }

    /// The lowercased address when valid, nil otherwise.
    public static func normalize(_ address: String) -> String? {
        guard isValid(address) else { return nil }
        return String(decoding: address.utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
    }

    /// Why `address` is not valid, worded like the `email-validator` package pydantic uses; nil when valid.
    public static func problem(with address: String) -> String? {
        let bytes = Array(address.utf8)
        if bytes.contains(where: { $0 == 0x20 || $0 < 0x20 || $0 == 0x7F }) {
            return "The email address contains invalid characters (spaces or control characters)."
        }
        let ats = bytes.indices.filter { bytes[$0] == UInt8(ascii: "@") }
        if ats.isEmpty { return "An email address must have an @-sign." }
        if ats.count > 1 { return "The email address is not valid. It must have exactly one @-sign." }
        let local = bytes[..<ats[0]]
        let domain = bytes[(ats[0] + 1)...]
        if local.isEmpty { return "There must be something before the @-sign." }
        if domain.isEmpty { return "There must be something after the @-sign." }
        if bytes.count > 254 { return "The email address is too long." }
        if local.count > 64 { return "The email address is too long before the @-sign." }

        let atextSymbols = Set("!#$%&'*+-/=?^_`{|}~".utf8)
        for b in local where !(isAlphanumeric(b) || atextSymbols.contains(b) || b == UInt8(ascii: ".")) {
            return "The email address contains invalid characters before the @-sign."
        }
        if local.first == UInt8(ascii: ".") { return "An email address cannot start with a period." }
        if local.last == UInt8(ascii: ".") { return "An email address cannot have a period immediately before the @-sign." }
        if zip(local, local.dropFirst()).contains(where: { $0 == UInt8(ascii: ".") && $1 == UInt8(ascii: ".") }) {
            return "An email address cannot have two periods in a row."
        }

        let labels = domain.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        if labels.count < 2 { return "The part after the @-sign is not valid. It should have a period." }
        for label in labels {
            if label.isEmpty { return "The part after the @-sign is not valid. It has an empty label." }
            if label.count > 63 { return "The part after the @-sign is not valid. A label is too long." }
            if label.contains(where: { !(isAlphanumeric($0) || $0 == UInt8(ascii: "-")) }) {
                return "The part after the @-sign contains invalid characters."
            }
            if label.first == UInt8(ascii: "-") || label.last == UInt8(ascii: "-") {
                return "The part after the @-sign is not valid. A label cannot start or end with a hyphen."
            }
        }
        if let tld = labels.last, tld.allSatisfy(isDigit) {
            return "The part after the @-sign is not valid. It is not within a valid top-level domain."
        }
        return nil
    }

    private static func isAlphanumeric(_ b: UInt8) -> Bool {
        (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122)
    }
}
