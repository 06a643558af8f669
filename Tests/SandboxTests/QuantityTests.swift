import Testing
@testable import Sandbox

@Suite struct QuantityTests {
    @Test(arguments: [
        ("1048576", Int64(1_048_576)), ("0", 0), ("512K", 524_288), ("64M", 67_108_864), ("1G", 1_073_741_824),
        ("2T", 2_199_023_255_552), ("64Mi", 67_108_864), ("64MiB", 67_108_864), ("64MB", 67_108_864),
        ("100B", 100), ("8388608G", 9_007_199_254_740_992),
    ])
    func validSizes(text: String, bytes: Int64) {
        #expect(Quantity.bytes(text) == bytes)
    }

    @Test(arguments: [
        "", "M", "64Q", "-1", "-64M", "1.5G", "0.5K", "64m", "64 M", " 64M", "64M ", "1e6", "+5", "0x40", "1_000",
        "64MiBB", "64Bi", "99999999999G", "9223372036854775808", "8589934592G",
    ])
    func invalidSizes(text: String) {
        #expect(Quantity.bytes(text) == nil)
    }

    @Test func largestSize() {
        #expect(Quantity.bytes("9223372036854775807") == Int64.max)
    }

    @Test(arguments: [
        ("500ms", Int64(500)), ("2s", 2_000), ("1.5s", 1_500), ("1m", 60_000), ("1h", 3_600_000),
        ("0.001s", 1), ("1.50s", 1_500), ("0.25m", 15_000), ("300s", 300_000),
    ])
    func validDurations(text: String, milliseconds: Int64) {
        #expect(Quantity.milliseconds(text) == milliseconds)
    }

    @Test(arguments: [
        "", "2", "0s", "0ms", "0.0s", "1.5ms", "0.0001s", "-1s", "2S", "2 s", "s", ".5s", "5.s", "1.2.3s", "1d",
        "99999999999999999h", "2sec",
    ])
    func invalidDurations(text: String) {
        #expect(Quantity.milliseconds(text) == nil)
    }

    @Test(arguments: [
        ("0.5", Int64(500)), ("1", 1_000), ("2.25", 2_250), ("0.001", 1), ("0.1", 100), ("3.000", 3_000),
        ("0.2500", 250), ("16", 16_000),
    ])
    func validCPUs(text: String, milliCPUs: Int64) {
        #expect(Quantity.milliCPUs(text) == milliCPUs)
    }

    @Test(arguments: ["", "0.0005", "1.0001", "-1", "1/2", "half", ".5", "1.", "1e3", "0.5 ", "99999999999999999999"])
    func invalidCPUs(text: String) {
        #expect(Quantity.milliCPUs(text) == nil)
    }

    @Test func counts() {
        #expect(Quantity.count("32") == 32)
        #expect(Quantity.count("0") == 0)
        #expect(Quantity.count("1.0") == nil)
        #expect(Quantity.count("-3") == nil)
        #expect(Quantity.count("3K") == nil)
        #expect(Quantity.count("") == nil)
    }
}
