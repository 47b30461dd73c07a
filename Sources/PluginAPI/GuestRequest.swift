import FoundationEssentials

/// One request from the guest, as the dispatcher routed it to a plug-in.
///
/// The path is raw (not percent-decoded): a plug-in that maps paths to files decodes it exactly
/// once, under its own rules.
public struct GuestRequest: Sendable {
    /// `GET`, `HEAD`, `PUT`, `POST`.
    public var method: String
    /// The raw path, without the query string.
    public var path: String
    /// The raw query string, without `?`; empty when there is none.
    public var query: String
    /// The namespace that matched.
    public var namespace: Namespace
    /// The part of `path` after a matched prefix, starting with `/` (or empty).
    public var subpath: String
    /// Header fields in the order they came; names compare case-insensitively through `header(_:)`.
    public var headers: [(name: String, value: String)]
    /// The `Content-Length` the client announced, if any.
    public var contentLength: Int64?
    /// The guest that sent the request, known from its token alone: a name of
    /// `RunConfiguration.guests` (`GuestDescription.defaultName` in a run of one guest).
    public var guest: String

    public init(
        method: String, path: String, query: String = "", namespace: Namespace, subpath: String,
        headers: [(name: String, value: String)] = [], contentLength: Int64? = nil,
        guest: String = GuestDescription.defaultName
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.namespace = namespace
        self.subpath = subpath
        self.headers = headers
        self.contentLength = contentLength
        self.guest = guest
    }

    /// The first value of a header field, by case-insensitive name.
    public func header(_ name: String) -> String? {
        headers.first { Self.sameFieldName($0.name, name) }?.value
    }

    /// Field names are ASCII tokens (RFC 9110 §5.1): compared ASCII case-insensitively, byte by
    /// byte, which is far cheaper per request than a Foundation string comparison.
    private static func sameFieldName(_ first: String, _ second: String) -> Bool {
        guard first.utf8.count == second.utf8.count else { return false }
        return zip(first.utf8, second.utf8).allSatisfy { a, b in
            a == b || (a | 0x20 == b | 0x20 && (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(a | 0x20))
        }
    }
}
