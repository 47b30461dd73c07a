import NIOCore
import NIOHTTP1
import PluginAPI

/// Lets only the guest in: takes `/t/TOKEN` off each request's path (or accepts
/// `Authorization: Bearer TOKEN`) and tells `ConnectionAdmission` that this connection is the
/// guest's. A request without the token is answered 403 at its end and touches nothing: no
/// activity, no plug-in. With `--token none` every request is let in. The token says which of
/// the run's guests sent the request (`GuestTokens`); without one it is the first guest.
///
/// From here on a request is a `RequestPart`: the head carries its record and the decisions.
final class TokenCheckHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = RequestPart

    static let refusal = "this host serves its guest only: use the URL it was given, or Authorization: Bearer TOKEN\n"

    private let tokens: GuestTokens?
    private let clock: RunClock
    /// The guest of a request when there are no tokens (`--token none`).
    private let firstGuest: String
    /// Whether the journal's records name the guest (a run of several guests).
    private let tagsGuest: Bool
    private var presented = false
    /// The request just passed on was a whole one (`headAndEnd`): its `.end` has been said.
    private var endSaid = false

    init(tokens: GuestTokens?, guests: [String], clock: RunClock) {
        self.tokens = tokens
        self.clock = clock
        firstGuest = guests.first ?? GuestDescription.defaultName
        tagsGuest = guests.count > 1
    }

    convenience init(token: RunToken?, clock: RunClock) {
        self.init(tokens: token.map { GuestTokens(single: $0) }, guests: [GuestDescription.defaultName], clock: clock)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            let request = check(head, context: context)
            endSaid = Self.cannotHaveBody(head)
            context.fireChannelRead(wrapInboundOut(endSaid ? .headAndEnd(request) : .head(request)))
        case .body(let buffer):
            context.fireChannelRead(wrapInboundOut(.body(buffer)))
        case .end:
            if endSaid {
                endSaid = false
            } else {
                context.fireChannelRead(wrapInboundOut(.end))
            }
        }
    }

    /// Whether the codec's next part for this head is its end (RFC 9112 §6.3: a request
    /// without `Transfer-Encoding` or `Content-Length` has no body).
    static func cannotHaveBody(_ head: HTTPRequestHead) -> Bool {
        guard !head.headers.contains(name: "transfer-encoding") else { return false }
        guard let length = head.headers.first(name: "content-length") else { return true }
        return length == "0"
    }

    private func check(_ head: HTTPRequestHead, context: ChannelHandlerContext) -> PendingRequest {
        var (path, query) = Self.split(head.uri)
        var guest = firstGuest
        if let tokens {
            switch tokens.check(path: path, authorization: head.headers.first(name: "authorization")) {
            case .allowed(let inner, let sender):
                path = inner
                guest = sender
            case .refused(let recordedPath):
                let request = PendingRequest(record: RequestRecord(head: head, path: recordedPath, started: clock.elapsed), query: query)
                request.answer(.text(403, Self.refusal), reason: "no valid run token")
                return request
            }
        }
        if !presented {
            presented = true
            context.triggerUserOutboundEvent(ConnectionAdmission.TokenPresented(), promise: nil)
        }
        var record = RequestRecord(head: head, path: path, started: clock.elapsed)
        record.guest = guest
        record.tagsGuest = tagsGuest
        return PendingRequest(record: record, query: query)
    }

    /// Splits a request target into its path and query.
    static func split(_ uri: String) -> (path: String, query: String) {
        guard let mark = uri.utf8.firstIndex(of: UInt8(ascii: "?")) else { return (uri, "") }
        return (String(uri[..<mark]), String(uri[uri.utf8.index(after: mark)...]))
    }
}
