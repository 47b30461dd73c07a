import FoundationEssentials
import PluginAPI
import SupportKit

/// The answer for a regular file: 200, 206 for one range, 304 when a validator matches, 416 for
/// a range past the end. The bytes themselves go out from the host by `sendfile`.
enum MirrorReply {
    /// A file's validators and type, made once per file state and reused while it lasts
    /// (formatting them per request showed in profiles of small GETs).
    struct Validators: Sendable {
        let identity: FileIdentity
        let etag: String
        let lastModified: String
        let contentType: String

        init(path: String, identity: FileIdentity) {
            self.identity = identity
            etag = MirrorReply.etag(of: identity)
            lastModified = HTTPDate.format(identity.modified.floorDivided(by: 1_000_000_000))
            contentType = ContentType.of(path)
        }
    }

    static func file(_ path: String, _ validators: Validators, request: GuestRequest) -> Reply {
        let identity = validators.identity
        let etag = validators.etag
        var headers: [(name: String, value: String)] = [
            ("Content-Type", validators.contentType), ("Last-Modified", validators.lastModified),
            ("ETag", etag), ("Accept-Ranges", "bytes"),
        ]
        if isNotModified(identity, etag: etag, request: request) {
            return Reply(status: 304, headers: headers.filter { $0.name != "Content-Type" })
        }
        let size = identity.size
        guard request.method == "GET", let range = request.header("Range"), rangeApplies(request, etag: etag, identity: identity) else {
            return Reply(status: 200, headers: headers, body: .file(FileSlice(path: path, offset: 0, length: size, identity: identity)))
        }
        switch ByteRange.parse(range, size: size) {
        case .whole:
            return Reply(status: 200, headers: headers, body: .file(FileSlice(path: path, offset: 0, length: size, identity: identity)))
        case .slice(let offset, let length):
            headers.append(("Content-Range", "bytes \(offset)-\(offset + length - 1)/\(size)"))
            return Reply(status: 206, headers: headers, body: .file(FileSlice(path: path, offset: offset, length: length, identity: identity)))
        case .unsatisfiable:
            return Reply(
                status: 416, headers: [("Content-Type", "text/plain; charset=utf-8"), ("Content-Range", "bytes */\(size)")],
                body: .bytes(Data("range not satisfiable: \(range) of \(size) bytes\n".utf8)))
        }
    }

    /// A strong validator: which file (inode), its size and its modification time in nanoseconds.
    static func etag(of identity: FileIdentity) -> String {
        "\"\(String(identity.inode, radix: 16))-\(String(identity.size, radix: 16))-\(String(identity.modified, radix: 16))\""
    }

    /// `If-None-Match` decides when present; otherwise `If-Modified-Since` (RFC 9110 §13.2.2).
    static func isNotModified(_ identity: FileIdentity, etag: String, request: GuestRequest) -> Bool {
        if let candidates = request.header("If-None-Match") {
            return candidates.split(separator: ",").contains { candidate in
                let tag = candidate.trimmingSpaces()
                return tag == "*" || tag == etag || tag == "W/" + etag
            }
        }
        if let since = request.header("If-Modified-Since").flatMap(HTTPDate.parse) {
            return identity.modified.floorDivided(by: 1_000_000_000) <= since
        }
        return false
    }

    /// `If-Range` keeps a range only while the file is the one the client saw.
    static func rangeApplies(_ request: GuestRequest, etag: String, identity: FileIdentity) -> Bool {
        guard let condition = request.header("If-Range")?.trimmingSpaces() else { return true }
        if condition.hasPrefix("\"") { return condition == etag }
        return HTTPDate.parse(condition) == identity.modified.floorDivided(by: 1_000_000_000)
    }
}

extension Int64 {
    fileprivate func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor < 0) ? quotient - 1 : quotient
    }
}
