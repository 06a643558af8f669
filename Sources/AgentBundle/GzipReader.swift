import CZlib

/// Inflates a gzip stream on demand, never producing more than `limit` bytes: a bomb is
/// refused as soon as it crosses the limit, not after it has filled the disk or memory.
final class GzipReader {
    private var stream = z_stream()
    /// The compressed bytes, at a stable address zlib reads from across calls.
    private let input: UnsafeMutableBufferPointer<UInt8>
    private var pending: [UInt8] = []
    private var pendingOffset = 0
    private var finished = false
    private(set) var produced: Int64 = 0
    let limit: Int64

    init(_ data: [UInt8], limit: Int64) throws(BundleError) {
        guard data.count >= 18, data[0] == 0x1f, data[1] == 0x8b else { throw .notGzip("missing the 1f 8b magic") }
        input = UnsafeMutableBufferPointer.allocate(capacity: data.count)
        _ = input.initialize(from: data)
        self.limit = limit
        stream.next_in = input.baseAddress
        stream.avail_in = uInt(data.count)
        // 15 + 16: a gzip wrapper only (no raw deflate, no zlib wrapper).
        let status = inflateInit2_(&stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            input.deallocate()
            throw .notGzip("inflateInit2 failed (\(status))")
        }
    }

    deinit {
        inflateEnd(&stream)
        input.deallocate()
    }

    /// Exactly `count` bytes, or fewer only at the end of the stream.
    func read(_ count: Int) throws(BundleError) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(count)
        while result.count < count {
            if pendingOffset < pending.count {
                let take = min(count - result.count, pending.count - pendingOffset)
                result += pending[pendingOffset..<(pendingOffset + take)]
                pendingOffset += take
                continue
            }
            if finished { break }
            try inflateChunk()
        }
        return result
    }

    private func inflateChunk() throws(BundleError) {
        var output = [UInt8](repeating: 0, count: 65_536)
        let status: Int32 = output.withUnsafeMutableBufferPointer { destination in
            stream.next_out = destination.baseAddress
            stream.avail_out = uInt(destination.count)
            return inflate(&stream, Z_NO_FLUSH)
        }
        let made = output.count - Int(stream.avail_out)
        produced += Int64(made)
        if produced > limit { throw .tooLarge(limit: limit) }
        pending = Array(output[..<made])
        pendingOffset = 0
        switch status {
        case Z_STREAM_END: finished = true
        case Z_OK: if made == 0 && stream.avail_in == 0 { throw .corrupt("gzip stream ends early") }
        case Z_BUF_ERROR: if made == 0 { throw .corrupt("gzip stream ends early") }
        default: throw .corrupt("inflate failed (\(status))")
        }
    }
}
