import Testing
@testable import ControlPlane

/// Characters whose bytes straddle chunks, cut at every place.
@Suite struct UTF8StreamDecoderTests {
    @Test func everySplitOfMultiByteTextDecodesToTheSameText() {
        let text = "aé€🙂z ünïcødé 🇫🇷"
        let bytes = Array(text.utf8)
        for first in 0...bytes.count {
            for second in first...bytes.count {
                var decoder = UTF8StreamDecoder()
                let decoded = decoder.decode(Array(bytes[..<first])) + decoder.decode(Array(bytes[first..<second]))
                    + decoder.decode(Array(bytes[second...])) + decoder.remainder
                #expect(decoded == text, "cut at \(first) and \(second)")
            }
        }
    }

    @Test func anUnfinishedCharacterIsHeldBackThenCompleted() {
        var decoder = UTF8StreamDecoder()
        #expect(decoder.decode([0x61, 0xF0, 0x9F]) == "a")
        #expect(decoder.decode([0x99]) == "")
        #expect(decoder.decode([0x82, 0x62]) == "🙂b")
        #expect(decoder.remainder == "")
    }

    @Test func invalidBytesStillDecodeAsReplacementCharacters() {
        var decoder = UTF8StreamDecoder()
        // A stray continuation byte and a lead byte that can never start a character.
        #expect(decoder.decode([0x80, 0x61, 0xFF, 0x62]) == "\u{FFFD}a\u{FFFD}b")
        // A stream that ends inside a character: the held-back bytes are one replacement.
        #expect(decoder.decode([0x63, 0xE2, 0x82]) == "c")
        #expect(decoder.remainder == "\u{FFFD}")
    }
}
