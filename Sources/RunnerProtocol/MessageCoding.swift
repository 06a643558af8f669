import Foundation

/// `{"type": "...", ...fields}` for both directions. Unknown types and missing fields are
/// decoding errors, which the receiver answers by closing the connection.
private enum TypeKey: String, CodingKey { case type }
private enum RunIDKey: String, CodingKey { case runID = "run_id" }

public struct ProtocolError: Error, CustomStringConvertible, Sendable, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension ClientMessage: Codable {
    public init(from decoder: any Decoder) throws {
        let type = try decoder.container(keyedBy: TypeKey.self).decode(String.self, forKey: .type)
        switch type {
        case "hello": self = .hello(try Hello(from: decoder))
        case "execute": self = .execute(try ExecuteRequest(from: decoder))
        case "cancel": self = .cancel(runID: try decoder.container(keyedBy: RunIDKey.self).decode(String.self, forKey: .runID))
        case "collect": self = .collect(runID: try decoder.container(keyedBy: RunIDKey.self).decode(String.self, forKey: .runID))
        case "status": self = .status
        case "drain": self = .drain
        default:
            throw DecodingError.dataCorrupted(.init(codingPath: [TypeKey.type], debugDescription: "unknown message type \(type)"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var typed = encoder.container(keyedBy: TypeKey.self)
        switch self {
        case .collect(let runID):
            try typed.encode("collect", forKey: .type)
            var body = encoder.container(keyedBy: RunIDKey.self)
            try body.encode(runID, forKey: .runID)
        case .hello(let hello):
            try typed.encode("hello", forKey: .type)
            try hello.encode(to: encoder)
        case .execute(let request):
            try typed.encode("execute", forKey: .type)
            try request.encode(to: encoder)
        case .cancel(let runID):
            try typed.encode("cancel", forKey: .type)
            var body = encoder.container(keyedBy: RunIDKey.self)
            try body.encode(runID, forKey: .runID)
        case .status:
            try typed.encode("status", forKey: .type)
        case .drain:
            try typed.encode("drain", forKey: .type)
        }
    }
}

private enum RunnerKeys: String, CodingKey {
    case runID = "run_id", queuePosition = "queue_position", reason, detail, record, stdout, message
}

extension RunnerMessage: Codable {
    public init(from decoder: any Decoder) throws {
        let type = try decoder.container(keyedBy: TypeKey.self).decode(String.self, forKey: .type)
        let body = try decoder.container(keyedBy: RunnerKeys.self)
        switch type {
        case "welcome": self = .welcome(try Welcome(from: decoder))
        case "accepted":
            self = .accepted(runID: try body.decode(String.self, forKey: .runID),
                             queuePosition: try body.decode(Int.self, forKey: .queuePosition))
        case "rejected":
            self = .rejected(runID: try body.decode(String.self, forKey: .runID),
                             reason: try body.decode(RejectReason.self, forKey: .reason),
                             detail: try body.decode(String.self, forKey: .detail))
        case "started": self = .started(runID: try body.decode(String.self, forKey: .runID))
        case "log": self = .log(try LogChunk(from: decoder))
        case "finished":
            self = .finished(runID: try body.decode(String.self, forKey: .runID),
                             record: try body.decode(RunRecord.self, forKey: .record),
                             stdout: try body.decode(Base64Bytes.self, forKey: .stdout).bytes)
        case "status": self = .status(try StatusReport(from: decoder))
        case "error": self = .error(message: try body.decode(String.self, forKey: .message))
        default:
            throw DecodingError.dataCorrupted(.init(codingPath: [TypeKey.type], debugDescription: "unknown message type \(type)"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var typed = encoder.container(keyedBy: TypeKey.self)
        var body = encoder.container(keyedBy: RunnerKeys.self)
        switch self {
        case .welcome(let welcome):
            try typed.encode("welcome", forKey: .type)
            try welcome.encode(to: encoder)
        case .accepted(let runID, let position):
            try typed.encode("accepted", forKey: .type)
            try body.encode(runID, forKey: .runID)
            try body.encode(position, forKey: .queuePosition)
        case .rejected(let runID, let reason, let detail):
            try typed.encode("rejected", forKey: .type)
            try body.encode(runID, forKey: .runID)
            try body.encode(reason, forKey: .reason)
            try body.encode(detail, forKey: .detail)
        case .started(let runID):
            try typed.encode("started", forKey: .type)
            try body.encode(runID, forKey: .runID)
        case .log(let chunk):
            try typed.encode("log", forKey: .type)
            try chunk.encode(to: encoder)
        case .finished(let runID, let record, let stdout):
            try typed.encode("finished", forKey: .type)
            try body.encode(runID, forKey: .runID)
            try body.encode(record, forKey: .record)
            try body.encode(Base64Bytes(stdout), forKey: .stdout)
        case .status(let report):
            try typed.encode("status", forKey: .type)
            try report.encode(to: encoder)
        case .error(let message):
            try typed.encode("error", forKey: .type)
            try body.encode(message, forKey: .message)
        }
    }
}

/// JSON for one frame's payload.
public enum MessageJSON {
    // One of each for every message: they keep no state between calls, and making them anew
    // for each frame showed in the daemon's profile.
    private static let encoder = JSONEncoder()
    private static let decoder = JSONDecoder()

    public static func encode<Message: Encodable>(_ message: Message) throws -> [UInt8] {
        Array(try encoder.encode(message))
    }

    public static func decode<Message: Decodable>(_ type: Message.Type, from bytes: [UInt8]) throws(ProtocolError) -> Message {
        do {
            return try decoder.decode(type, from: Data(bytes))
        } catch let error as DecodingError {
            throw ProtocolError("malformed message: \(Self.describe(error))")
        } catch {
            throw ProtocolError("malformed message: \(error)")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .dataCorrupted(let context): return context.debugDescription + Self.path(context.codingPath)
        case .keyNotFound(let key, let context): return "missing \(key.stringValue)" + Self.path(context.codingPath)
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "wrong type" + Self.path(context.codingPath)
        @unknown default: return "\(error)"
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.isEmpty ? "" : " at " + keys.map(\.stringValue).joined(separator: ".")
    }
}
