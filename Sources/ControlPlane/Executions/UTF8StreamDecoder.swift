/// Text from a byte stream that arrives in chunks (a run's stderr, as the runner reads it from
/// a pipe): a character whose bytes straddle two chunks is held back until its last byte comes,
/// instead of becoming two replacement characters. Invalid bytes still decode as U+FFFD.
struct UTF8StreamDecoder: Sendable {
    /// The start of a character still waiting for its last bytes (at most 3).
    private var pending: [UInt8] = []

    /// The complete characters so far, keeping an unfinished last one for the next chunk.
    mutating func decode(_ chunk: [UInt8]) -> String {
        let bytes = pending + chunk
        let cut = Self.completePrefixLength(bytes)
        pending = Array(bytes[cut...])
        return String(decoding: bytes[..<cut], as: UTF8.self)
    }

    /// Whatever was held back, for when the stream has ended (an unfinished character is U+FFFD).
    var remainder: String { String(decoding: pending, as: UTF8.self) }

    /// How many leading bytes end on a character boundary: all of them, unless the last
    /// character's lead byte announces more bytes than follow it.
    static func completePrefixLength(_ bytes: [UInt8]) -> Int {
        // A character is at most 4 bytes: only its lead among the last 3 can be unfinished.
        var index = bytes.count - 1
        while index >= 0, index >= bytes.count - 3, bytes[index] & 0xC0 == 0x80 { index -= 1 }
        guard index >= 0 else { return bytes.count }
        let lead = bytes[index]
        let length = lead >= 0xF0 && lead <= 0xF4 ? 4 : lead >= 0xE0 && lead < 0xF0 ? 3 : lead >= 0xC2 && lead < 0xE0 ? 2 : 1
        return bytes.count - index < length ? index : bytes.count
    }
}
