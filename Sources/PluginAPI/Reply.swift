import Foundation

/// The answer to one guest request.
public struct Reply: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: ReplyBody

    public init(status: Int, headers: [(name: String, value: String)] = [], body: ReplyBody = .empty) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A plain-text reply; a trailing newline is the caller's choice.
    public static func text(_ status: Int, _ text: String) -> Reply {
        Reply(
            status: status, headers: [("Content-Type", "text/plain; charset=utf-8")],
            body: .bytes(Data(text.utf8)))
    }

    /// A JSON reply.
    public static func json(_ status: Int, _ value: JSONValue) -> Reply {
        Reply(
            status: status, headers: [("Content-Type", "application/json")],
            body: .bytes(value.encoded(pretty: false) + Data("\n".utf8)))
    }
}

/// What follows the head of a reply.
public enum ReplyBody: Sendable {
    case empty
    /// A small body held in memory.
    case bytes(Data)
    /// A slice of a file, sent by the host with `sendfile`; the plug-in never reads it.
    case file(FileSlice)
}

/// A byte range of a file the host sends without reading it into memory.
public struct FileSlice: Sendable {
    /// An absolute path the plug-in has already checked is safe to serve.
    public var path: String
    public var offset: Int64
    public var length: Int64

    public init(path: String, offset: Int64, length: Int64) {
        self.path = path
        self.offset = offset
        self.length = length
    }
}

/// A request the guest got wrong: ends that request with `status` (4xx) and `reason` as the body.
///
/// Any other error a hook throws is answered with 500; either way the host journals it and the
/// run goes on.
public struct GuestError: Error, Sendable, CustomStringConvertible {
    public var status: Int
    public var reason: String
    /// Extra fields for the journal record of the refusal (e.g. both digests of a conflict).
    public var details: [String: JSONValue]

    public init(_ status: Int, _ reason: String, details: [String: JSONValue] = [:]) {
        self.status = status
        self.reason = reason
        self.details = details
    }

    public var description: String { "\(status): \(reason)" }
}
