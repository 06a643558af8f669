import NIOCore

/// A frame: a 4-byte big-endian length, then that many bytes of JSON. A length of 0 or above
/// the maximum is a protocol error, raised before any of the payload is buffered.
public struct FrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = [UInt8]
    public let maximumFrameBytes: Int

    public init(maximumFrameBytes: Int = RunnerProtocol.defaultMaximumFrameBytes) {
        self.maximumFrameBytes = maximumFrameBytes
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return .needMoreData }
        guard length > 0, Int(length) <= maximumFrameBytes else {
            throw ProtocolError("frame of \(length) bytes (allowed: 1 to \(maximumFrameBytes))")
        }
        guard buffer.readableBytes >= 4 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        context.fireChannelRead(wrapInboundOut(buffer.readBytes(length: Int(length))!))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        if buffer.readableBytes > 0 { throw ProtocolError("connection closed inside a frame (\(buffer.readableBytes) bytes left)") }
        return .needMoreData
    }
}

public struct FrameEncoder: MessageToByteEncoder {
    public typealias OutboundIn = [UInt8]
    public init() {}
    public func encode(data: [UInt8], out: inout ByteBuffer) throws {
        out.writeInteger(UInt32(data.count))
        out.writeBytes(data)
    }
}
