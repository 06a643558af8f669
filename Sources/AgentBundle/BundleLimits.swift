/// Caps on what a bundle may unpack to.
public struct BundleLimits: Sendable, Equatable {
    /// Total bytes of file content after decompression.
    public var maximumBytes: Int64
    public var maximumEntries: Int
    public var maximumPathBytes: Int

    public init(maximumBytes: Int64 = 128 << 20, maximumEntries: Int = 10_000, maximumPathBytes: Int = 1_024) {
        self.maximumBytes = maximumBytes
        self.maximumEntries = maximumEntries
        self.maximumPathBytes = maximumPathBytes
    }
}
