import Foundation

/// Times are stored as Int64 microseconds since the Unix epoch: exact, sortable and the same
/// column type on SQLite and PostgreSQL.
enum Timestamp {
    static func now() -> Int64 { Int64((Date().timeIntervalSince1970 * 1_000_000).rounded()) }

    static func date(_ micros: Int64) -> Date { Date(timeIntervalSince1970: Double(micros) / 1_000_000) }

    /// ISO 8601 in UTC with microseconds, e.g. `2026-12-01T23:00:00.123456Z`.
    static func iso8601(_ micros: Int64) -> String {
        let seconds = micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
        let fraction = micros - seconds * 1_000_000
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        let fractionText = String(fraction)
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))."
            + String(repeating: "0", count: 6 - fractionText.count) + fractionText + "Z"
    }
}
