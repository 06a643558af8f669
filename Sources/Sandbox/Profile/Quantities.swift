/// Parsers for the quantities operators write in profiles and on the command line
/// (`--memory 64M --timeout 2s --cpus 0.5`).
///
/// All arithmetic is exact integer arithmetic: a limit is a contract, and `0.1` CPUs must
/// become exactly 100 milli-CPUs, not whatever a Double rounds to. Anything that is not
/// exactly representable in the result's unit, negative, or beyond Int64 is rejected (nil)
/// rather than clamped.
public enum Quantity {
    /// A size in bytes: `1048576`, `512K`, `64M`, `1G`, `2T`. Multiples are binary
    /// (K = 1024); `Ki`/`KiB`/`KB` spell the same thing, and a bare `B` means bytes.
    /// Whole numbers only. Zero is accepted; whether it makes sense is the caller's call.
    public static func bytes(_ text: String) -> Int64? {
        let (number, unit) = splitUnit(text)
        guard let multiplier = byteMultiplier(unit), !number.contains(".") else { return nil }
        return exact(number, times: multiplier)
    }

    /// A duration in milliseconds: `500ms`, `2s`, `1.5s`, `1m`, `1h`. The unit is required
    /// (a bare `2` is ambiguous between seconds and milliseconds), the result must be a
    /// whole number of milliseconds and greater than zero.
    public static func milliseconds(_ text: String) -> Int64? {
        let (number, unit) = splitUnit(text)
        let multipliers: [Substring: Int64] = ["ms": 1, "s": 1_000, "m": 60_000, "h": 3_600_000]
        guard let multiplier = multipliers[unit], let value = exact(number, times: multiplier), value > 0
        else { return nil }
        return value
    }

    /// CPUs as a decimal (`0.5`, `1`, `2.25`) in thousandths of a CPU. More precision than
    /// a thousandth (`0.0005`) is rejected: cgroup CPU quotas cannot express it faithfully.
    public static func milliCPUs(_ text: String) -> Int64? {
        exact(Substring(text), times: 1_000)
    }

    /// A plain non-negative decimal integer (`32`), without signs, separators or bases.
    public static func count(_ text: String) -> Int64? {
        guard !text.contains(".") else { return nil }
        return exact(Substring(text), times: 1)
    }

    // MARK: - exact decimal arithmetic

    /// The digits-and-dot prefix and the unit suffix of `text`.
    private static func splitUnit(_ text: String) -> (number: Substring, unit: Substring) {
        let unitStart = text.firstIndex { !$0.isASCII || !($0.isNumber || $0 == ".") } ?? text.endIndex
        return (text[..<unitStart], text[unitStart...])
    }

    private static func byteMultiplier(_ unit: Substring) -> Int64? {
        let base: Int64
        switch unit.first {
        case nil, "B": return unit.count <= 1 ? 1 : nil
        case "K": base = 1 << 10
        case "M": base = 1 << 20
        case "G": base = 1 << 30
        case "T": base = 1 << 40
        default: return nil
        }
        switch unit.dropFirst() {
        case "", "i", "iB", "B": return base
        default: return nil
        }
    }

    /// `number × multiplier` when `number` is `DIGITS` or `DIGITS.DIGITS` and the product is a
    /// whole number that fits in Int64.
    static func exact(_ number: Substring, times multiplier: Int64) -> Int64? {
        let parts = number.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let whole = digits(parts[0]) else { return nil }
        var total = whole.multipliedReportingOverflow(by: multiplier)
        guard !total.overflow else { return nil }
        guard parts.count == 2 else { return total.partialValue }

        // Trailing zeros add no precision ("1.50" is "1.5"), so they must not cause a rejection.
        var fractionDigits = parts[1]
        guard !fractionDigits.isEmpty else { return nil }
        while fractionDigits.last == "0" { fractionDigits = fractionDigits.dropLast() }
        if fractionDigits.isEmpty { return total.partialValue }
        guard fractionDigits.count <= 18, let fraction = digits(fractionDigits) else { return nil }

        // fraction / 10^n × multiplier must be whole: cancel common factors first so the
        // product cannot overflow before the divisibility check.
        var denominator: Int64 = 1
        for _ in 0..<fractionDigits.count { denominator *= 10 }
        let common = greatestCommonDivisor(multiplier, denominator)
        let reducedDenominator = denominator / common
        guard fraction % reducedDenominator == 0 else { return nil }
        let part = (fraction / reducedDenominator).multipliedReportingOverflow(by: multiplier / common)
        guard !part.overflow else { return nil }
        total = total.partialValue.addingReportingOverflow(part.partialValue)
        return total.overflow ? nil : total.partialValue
    }

    /// ASCII decimal digits only: no sign, no `_`, no whitespace, no other scripts' digits.
    private static func digits(_ text: Substring) -> Int64? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int64(text)
    }

    private static func greatestCommonDivisor(_ a: Int64, _ b: Int64) -> Int64 {
        var (a, b) = (a, b)
        while b != 0 { (a, b) = (b, a % b) }
        return a
    }
}
