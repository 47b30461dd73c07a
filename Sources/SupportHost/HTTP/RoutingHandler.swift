import NIOCore
import NIOHTTP1
import PluginAPI

/// Sends each let-in request to its plug-in through the `Router`: `GET` and `HEAD` are answered
/// by the export hook here and now (it must not block), `PUT` and `POST` are marked for the
/// import hook (after `DuplicateDiscard`); an over-long target is 414, a path no plug-in answers
/// 404, another method 405. Every let-in request counts as guest activity.
final class RoutingHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = RequestPart
    typealias InboundOut = RequestPart

    private let router: Router
    private let activity: Activity
    private let maxRequestLine: Int
    private let duplicates: DuplicateDiscard

    init(router: Router, activity: Activity, answered: AnsweredRequests, maxRequestLine: Int) {
        self.router = router
        self.activity = activity
        self.maxRequestLine = maxRequestLine
        duplicates = DuplicateDiscard(answered: answered)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request), .headAndEnd(let request):
            if case .undecided = request.action { route(request) }
        case .body, .end:
            break
        }
        context.fireChannelRead(data)
    }

    private func route(_ request: PendingRequest) {
        let head = request.head
        let path = request.record.path
        guard head.uri.utf8.count <= maxRequestLine else {
            return request.answer(.text(414, "request target too long\n"), reason: "request target longer than \(maxRequestLine) bytes")
        }
        activity.request(head.method.rawValue, path, guest: request.record.guest)
        guard let (route, subpath) = router.route(path) else {
            return request.answer(.text(404, "no plug-in answers \(path)\n"), reason: "no plug-in answers this path")
        }
        let source = type(of: route.plugin).name
        request.record.source = source
        let guestRequest = GuestRequest(
            method: head.method.rawValue, path: path, query: request.query, namespace: route.namespace, subpath: subpath,
            headers: head.headers.map { ($0.name, $0.value) },
            contentLength: head.headers.first(name: "content-length").flatMap { Int64($0) }, guest: request.record.guest)
        switch head.method {
        case .GET, .HEAD:
            do {
                request.action = .answer(try route.plugin.exportData(guestRequest))
            } catch {
                let failure = HookFailure.reply(for: error, plugin: source)
                request.answer(failure.reply, reason: failure.reason)
            }
        case .PUT, .POST:
            request.action = .importBody(route.plugin, guestRequest)
            duplicates.check(request)
        default:
            request.answer(.text(405, "\(head.method.rawValue) is not accepted here\n"), reason: "method not allowed")
        }
    }
}
