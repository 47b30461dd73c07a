import FoundationEssentials
import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// One connection of the web view: checks the token, has the router answer off the event loop,
/// and writes the answer — bytes, a result file by `sendfile`, or an event stream that it
/// feeds until the run ends or the client goes. Request bodies are ignored (GET only).
final class WebHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let router: WebRouter
    private let access: WebAccess
    private let pool: NIOThreadPool
    private var head: HTTPRequestHead?
    private var stream: RepeatedTask?

    init(router: WebRouter, access: WebAccess, pool: NIOThreadPool) {
        (self.router, self.access, self.pool) = (router, access, pool)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break
        case .end:
            guard let head else { return }
            self.head = nil
            handle(head, context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        stream?.cancel()
        stream = nil
        context.fireChannelInactive()
    }

    /// A connection that sends no request for a while is closed (slow or forgotten clients);
    /// an event stream is quiet on the client's side by design and stays.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read, stream == nil {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// A request the HTTP decoder cannot read has had its 400 from NIO's error handler; the
    /// connection cannot go on after it.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stream?.cancel()
        stream = nil
    }

    private func handle(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard let request = WebRouter.parse(method: head.method, uri: head.uri, lastEventID: head.headers.first(name: "Last-Event-ID")) else {
            write(.problem(.badRequest, "The request target is not a URL."), for: head, setCookie: false, context: context)
            return
        }
        let verdict = access.check(query: request.query, authorization: head.headers.first(name: "Authorization"), cookie: head.headers.first(name: "Cookie"))
        guard case .allowed(let setCookie) = verdict else {
            let message = "This server shows runs only to whoever has its token: open the URL `support-host serve` printed (it ends in ?token=…), or send Authorization: Bearer TOKEN."
            write(.problem(.forbidden, message), for: head, setCookie: false, context: context)
            return
        }
        let router = self.router
        pool.runIfActive(eventLoop: context.eventLoop) { router.respond(request) }
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let response): self.write(response, for: head, setCookie: setCookie, context: context)
                case .failure(let error): self.write(.problem(.serviceUnavailable, "The server is stopping (\(error))."), for: head, setCookie: false, context: context)
                }
            }
    }

    private func write(_ response: WebResponse, for request: HTTPRequestHead, setCookie: Bool, context: ChannelHandlerContext) {
        var headers = HTTPHeaders(WebResponse.securityHeaders)
        if setCookie { headers.add(name: "Set-Cookie", value: access.setCookieHeader) }
        let keepAlive = request.isKeepAlive
        switch response {
        case .bytes(let status, let contentType, let body, let extra):
            headers.add(name: "Content-Type", value: contentType)
            headers.add(name: "Content-Length", value: String(body.count))
            for (name, value) in extra { headers.add(name: name, value: value) }
            sendHead(status, headers, request, context)
            if request.method != .HEAD { context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil) }
            finish(keepAlive: keepAlive, context: context)
        case .download(let path, let name, let size):
            let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
            guard fd >= 0 else {
                write(.problem(.notFound, "The result file cannot be opened."), for: request, setCookie: setCookie, context: context)
                return
            }
            headers.add(name: "Content-Type", value: "application/octet-stream")
            headers.add(name: "Content-Disposition", value: Self.attachment(name))
            headers.add(name: "Content-Length", value: String(size))
            sendHead(.ok, headers, request, context)
            let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: fd)
            if request.method != .HEAD, size > 0 {
                context.write(wrapOutboundOut(.body(.fileRegion(FileRegion(fileHandle: handle, readerIndex: 0, endIndex: size)))), promise: nil)
            }
            let done = context.eventLoop.makePromise(of: Void.self)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: done)
            done.futureResult.assumeIsolated().whenComplete { _ in
                try? handle.close()
                if !keepAlive { context.close(promise: nil) }
            }
        case .events(let source):
            headers.add(name: "Content-Type", value: "text/event-stream; charset=utf-8")
            headers.add(name: "X-Accel-Buffering", value: "no")
            headers.replaceOrAdd(name: "Connection", value: "close")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: .ok, headers: headers))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: EventStream.preamble)))), promise: nil)
            follow(source, context: context)
        }
    }

    /// Asks the source for news every `interval`, off the loop, one look at a time.
    private func follow(_ source: any WebEventSource, context: ChannelHandlerContext) {
        let pool = self.pool
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        let amount = TimeAmount.nanoseconds(Int64(source.interval.components.attoseconds / 1_000_000_000) + source.interval.components.seconds * 1_000_000_000)
        stream = loop.scheduleRepeatedAsyncTask(initialDelay: .zero, delay: amount) { task in
            pool.runIfActive(eventLoop: loop) { source.poll() }.map { frame, ended in
                let (handler, context) = bound.value
                guard context.channel.isActive else {
                    task.cancel()
                    return
                }
                if let frame {
                    context.writeAndFlush(handler.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: frame)))), promise: nil)
                }
                if ended {
                    task.cancel()
                    handler.stream = nil
                    context.writeAndFlush(handler.wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
                }
            }
        }
    }

    private func sendHead(_ status: HTTPResponseStatus, _ headers: HTTPHeaders, _ request: HTTPRequestHead, _ context: ChannelHandlerContext) {
        var headers = headers
        if !request.isKeepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))), promise: nil)
    }

    private func finish(keepAlive: Bool, context: ChannelHandlerContext) {
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    /// `attachment; filename="…"` with a plain-ASCII fallback name and the exact one in
    /// `filename*` (RFC 6266): no quote or control character of a guest's name gets through.
    static func attachment(_ name: String) -> String {
        let plain = String(name.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0 != "\"" && $0 != "\\" && $0.value != 0x7f ? Character($0) : "_" })
        return "attachment; filename=\"\(plain)\"; filename*=UTF-8''\(HTML.percentEncoded(name, keeping: "-._~"))"
    }
}
