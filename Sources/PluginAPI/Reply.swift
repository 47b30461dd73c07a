import FoundationEssentials

/// The answer to one guest request.
public struct Reply: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: ReplyBody
    /// Set by `Reply.later`: the host awaits it, off the event loop, for the reply it sends
    /// instead of this one. `nil` for every reply given at once.
    public var deferred: (@Sendable () async throws -> Reply)?

    public init(status: Int, headers: [(name: String, value: String)] = [], body: ReplyBody = .empty) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A reply given later: the host runs `produce` off the event loop and sends what it returns
    /// (or what it throws, as from any hook). This is how an export hook, which must not block,
    /// answers a `GET` that waits for something; the connection keeps its order (a pipelined
    /// request behind it is answered after it) and the request is journaled when its reply goes.
    ///
    /// ```swift
    /// func exportData(_ request: GuestRequest) throws -> Reply {
    ///     guard request.query.hasPrefix("wait=") else { return .text(200, now()) }
    ///     return .later { try await self.waitForNews(seconds: 30) }
    /// }
    /// ```
    ///
    /// A host that did not await it would send this placeholder, a 500, rather than a made-up yes.
    public static func later(_ produce: @escaping @Sendable () async throws -> Reply) -> Reply {
        var placeholder = Reply.text(500, "a deferred reply was not awaited\n")
        placeholder.deferred = produce
        return placeholder
    }

    /// The reply to send: this one, or what its `deferred` closure gives (in turn awaited, if
    /// that is deferred too). The host and `PluginTesting` call it; a plug-in seldom needs to.
    public func resolved() async throws -> Reply {
        var reply = self
        while let produce = reply.deferred { reply = try await produce() }
        return reply
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
///
/// With an `identity`, the host may keep the file open between requests (one cache of open
/// files per event loop) and sends the slice only from a file that still has that identity; a
/// file that changed between the plug-in's `stat` and the host's `open` is answered with 503.
///
/// ```swift
/// let slice = FileSlice(path: resolved, offset: 0, length: identity.size, identity: identity)
/// ```
public struct FileSlice: Sendable {
    /// An absolute path the plug-in has already checked is safe to serve.
    public var path: String
    public var offset: Int64
    public var length: Int64
    /// What the plug-in saw when it checked the file; `nil` makes the host open and close the
    /// file for this one reply.
    public var identity: FileIdentity?

    public init(path: String, offset: Int64, length: Int64, identity: FileIdentity? = nil) {
        self.path = path
        self.offset = offset
        self.length = length
        self.identity = identity
    }
}

/// Which file, in which state: a file with the same identity has the same bytes.
///
/// Device and inode say which file; size and modification time say whether it changed. A
/// plug-in fills it from `stat`; the host compares it with `fstat` of the descriptor it sends from.
public struct FileIdentity: Sendable, Hashable {
    /// `st_dev`.
    public var device: UInt64
    /// `st_ino`.
    public var inode: UInt64
    /// `st_size`, in bytes.
    public var size: Int64
    /// `st_mtim`, in nanoseconds since 1970.
    public var modified: Int64

    public init(device: UInt64, inode: UInt64, size: Int64, modified: Int64) {
        self.device = device
        self.inode = inode
        self.size = size
        self.modified = modified
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
