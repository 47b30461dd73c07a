import Foundation
import NIOCore
import NIOHTTP1
import PluginAPI

/// One connection's dispatcher: routes each request through the plug-in table to a hook,
/// streams request bodies to import hooks with back-pressure, sends replies (files by
/// `sendfile`), and journals every request. A hook that throws ends its request, never the
/// connection's neighbours or the server.
final class HTTPDispatcher: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let services: ServerServices
    private let files: OpenFileCache
    private var state = State.idle
    private var readPaused = false
    private var readPending = false
    private var context: ChannelHandlerContext?

    private enum State {
        case idle
        /// The reply is decided; it is sent when the request's end arrives.
        case replyAtEnd(Exchange, Reply)
        /// The body streams to an import hook.
        case importing(Exchange, RequestBodyStream.Producer.Source)
        /// The import hook answered before the body ended; the rest is ignored and the
        /// connection closes after the reply.
        case ignoringRestOfBody
        case responding
    }

    init(services: ServerServices, files: OpenFileCache) {
        self.services = services
        self.files = files
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): receivedHead(head, context: context)
        case .body(let buffer): receivedBody(buffer)
        case .end: receivedEnd(context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .importing(let exchange, let source) = state, !exchange.bodyComplete {
            source.finish(BodyError.connectionClosed(received: exchange.bytesIn))
        }
        context.fireChannelInactive()
    }

    /// A request the codec could not parse (e.g. raw non-ASCII bytes in the target) was already
    /// answered 400 by NIO's protocol error handler; it is journaled here and the connection
    /// closed, which NIO leaves to the pipeline: left open, the client would wait forever.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A connection that ends mid-request (often our own close after an early answer to an
        // upload) is not a request the guest got wrong: that request has its own record.
        if let parserError = error as? HTTPParserError, parserError != .invalidEOFState {
            services.journal.append(source: "host", kind: "request", fields: [
                "method": "", "path": "", "status": 400, "bytes_in": 0, "bytes_out": 0, "duration": 0,
                "reason": .string("malformed request: \(error)"),
            ])
        }
        context.close(promise: nil)
    }

    func read(context: ChannelHandlerContext) {
        if readPaused { readPending = true } else { context.read() }
    }

    private func resumeReading() {
        guard readPaused else { return }
        readPaused = false
        if readPending, let context {
            readPending = false
            context.read()
        }
    }

    // MARK: Requests

    private func receivedHead(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let (path, query) = Self.split(head.uri)
        services.activity.request(head.method.rawValue, path)
        var exchange = Exchange(head: head, path: path, started: services.clock.elapsed)
        guard let (route, subpath) = services.router.route(path) else {
            exchange.reason = "no plug-in answers this path"
            state = .replyAtEnd(exchange, .text(404, "no plug-in answers \(path)\n"))
            return
        }
        exchange.source = type(of: route.plugin).name
        let request = GuestRequest(
            method: head.method.rawValue, path: path, query: query, namespace: route.namespace, subpath: subpath,
            headers: head.headers.map { ($0.name, $0.value) },
            contentLength: head.headers.first(name: "content-length").flatMap { Int64($0) })

        switch head.method {
        case .GET, .HEAD:
            let reply: Reply
            do {
                reply = try route.plugin.exportData(request)
            } catch {
                (reply, exchange.reason) = Self.reply(for: error, plugin: exchange.source)
            }
            state = .replyAtEnd(exchange, reply)
        case .PUT, .POST:
            startImport(request, plugin: route.plugin, exchange: exchange, context: context)
        default:
            exchange.reason = "method not allowed"
            state = .replyAtEnd(exchange, .text(405, "\(head.method.rawValue) is not accepted here\n"))
        }
    }

    private func startImport(_ request: GuestRequest, plugin: any Plugin, exchange: Exchange, context: ChannelHandlerContext) {
        let loop = context.eventLoop
        let bound = NIOLoopBound(self, eventLoop: loop)
        let stream = RequestBodyStream(gate: ReadGate { loop.execute { bound.value.resumeReading() } })
        state = .importing(exchange, stream.source)
        if exchange.head.headers.first(name: "expect")?.lowercased() == "100-continue" {
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: exchange.head.version, status: .continue))), promise: nil)
        }
        let sequence = stream.sequence
        let source = exchange.source
        let finished: @Sendable (Answer) -> Void = { answer in
            loop.execute { bound.value.importFinished(reply: answer.reply, reason: answer.reason) }
        }
        Task { [plugin, request, sequence, source, finished] in
            finished(await runImportHook(plugin, request, sequence, source: source))
        }
    }



    private func receivedBody(_ buffer: ByteBuffer) {
        services.activity.bytes(in: buffer.readableBytes)
        guard case .importing(var exchange, let source) = state else { return }
        exchange.bytesIn += Int64(buffer.readableBytes)
        state = .importing(exchange, source)
        if source.yield(Data(buffer.readableBytesView)) == .stopProducing {
            readPaused = true
        }
    }

    private func receivedEnd(context: ChannelHandlerContext) {
        switch state {
        case .replyAtEnd(let exchange, let reply):
            send(reply, for: exchange, context: context)
        case .importing(var exchange, let source):
            if let announced = exchange.announcedLength, exchange.bytesIn < announced {
                source.finish(BodyError.shorterThanAnnounced(received: exchange.bytesIn, announced: announced))
            } else {
                source.finish()
            }
            exchange.bodyComplete = true
            state = .importing(exchange, source)
        case .ignoringRestOfBody:
            state = .responding
        case .idle, .responding:
            break
        }
    }

    private func importFinished(reply: Reply, reason: String?) {
        guard case .importing(var exchange, let source) = state else { return }
        exchange.reason = reason
        guard let context, context.channel.isActive else {
            // The guest hung up: nobody hears the answer, but the journal does.
            state = .idle
            exchange.status = reply.status
            exchange.reason = (reason.map { $0 + "; " } ?? "") + "client gone before the reply was sent"
            services.journal.append(source: exchange.source, kind: "request", fields: exchange.fields(now: services.clock.elapsed))
            return
        }
        if !exchange.bodyComplete {
            // The hook answered before the whole body came: answer, then close the connection
            // rather than read a body nobody wants.
            source.finish()
            exchange.closeAfterReply = true
            resumeReading()
        }
        send(reply, for: exchange, context: context)
    }

    // MARK: Replies

    private func send(_ reply: Reply, for exchange: Exchange, context: ChannelHandlerContext) {
        var exchange = exchange
        state = exchange.closeAfterReply ? .ignoringRestOfBody : .responding
        var headers = HTTPHeaders(reply.headers.map { ($0.name, $0.value) })
        headers.replaceOrAdd(name: "Server", value: "SupportHost")
        let keepAlive = exchange.head.isKeepAlive && !exchange.closeAfterReply
        if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }

        var file: OpenFileCache.Entry?
        var region: FileRegion?
        var status = reply.status
        var bodyBuffer: ByteBuffer?
        let isHead = exchange.head.method == .HEAD
        switch reply.body {
        case .empty:
            headers.replaceOrAdd(name: "Content-Length", value: "0")
        case .bytes(let data):
            headers.replaceOrAdd(name: "Content-Length", value: String(data.count))
            if !isHead { bodyBuffer = context.channel.allocator.buffer(bytes: data) }
        case .file(let slice) where isHead || slice.length == 0:
            // Nothing to send: the plug-in's stat is the answer, no descriptor needed.
            headers.replaceOrAdd(name: "Content-Length", value: String(slice.length))
        case .file(let slice):
            switch files.checkOut(slice) {
            case .success(let entry):
                file = entry
                region = FileRegion(fileHandle: entry.handle, readerIndex: Int(slice.offset), endIndex: Int(slice.offset + slice.length))
                headers.replaceOrAdd(name: "Content-Length", value: String(slice.length))
            case .failure(let failure):
                status = failure.status
                exchange.reason = failure.reason
                Self.dropRepresentationHeaders(&headers)
                if status == 503 { headers.replaceOrAdd(name: "Retry-After", value: "1") }
                headers.replaceOrAdd(name: "Content-Length", value: "0")
            }
        }
        exchange.bytesOut = Int64(bodyBuffer?.readableBytes ?? region?.readableBytes ?? 0)
        exchange.status = status

        let head = HTTPResponseHead(version: exchange.head.version, status: HTTPResponseStatus(statusCode: status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let bodyBuffer { context.write(wrapOutboundOut(.body(.byteBuffer(bodyBuffer))), promise: nil) }
        if let region { context.write(wrapOutboundOut(.body(.fileRegion(region))), promise: nil) }
        let done = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: done)
        let services = self.services
        let channel = context.channel
        let finished = exchange
        let files = self.files
        let sentFile = file
        done.futureResult.whenComplete { result in
            if let sentFile { files.checkIn(sentFile) }
            var record = finished
            if case .failure = result { record.reason = (record.reason.map { $0 + "; " } ?? "") + "client gone before the reply was sent" }
            services.activity.bytes(out: Int(record.bytesOut))
            services.journal.append(source: record.source, kind: "request", fields: record.fields(now: services.clock.elapsed))
            if !keepAlive { channel.close(promise: nil) }
        }
        if case .responding = state { state = .idle }
    }

    /// A reply that lost its file keeps no header that described the file.
    static func dropRepresentationHeaders(_ headers: inout HTTPHeaders) {
        for name in ["Content-Range", "ETag", "Last-Modified", "Accept-Ranges", "Content-Type"] { headers.remove(name: name) }
    }

    static func reply(for error: any Error, plugin: String) -> (Reply, String) {
        if let refusal = error as? GuestError {
            return (.text(refusal.status, refusal.reason + "\n"), refusal.reason)
        }
        if let bodyError = error as? BodyError {
            return (.text(400, "\(bodyError)\n"), "\(bodyError)")
        }
        return (.text(500, "\(plugin) failed: \(error)\n"), "\(plugin) failed: \(error)")
    }

    /// Splits a request target into its path and query.
    static func split(_ uri: String) -> (path: String, query: String) {
        guard let mark = uri.firstIndex(of: "?") else { return (uri, "") }
        return (String(uri[..<mark]), String(uri[uri.index(after: mark)...]))
    }
}

/// What the journal records of one request.
struct Exchange {
    let head: HTTPRequestHead
    let path: String
    let started: Double
    var source = "host"
    var status = 0
    var bytesIn: Int64 = 0
    var bytesOut: Int64 = 0
    var reason: String?
    var bodyComplete = false
    var closeAfterReply = false

    var announcedLength: Int64? { head.headers.first(name: "content-length").flatMap { Int64($0) } }

    init(head: HTTPRequestHead, path: String, started: Double) {
        self.head = head
        self.path = path
        self.started = started
    }

    func fields(now: Double) -> [String: JSONValue] {
        var fields: [String: JSONValue] = [
            "method": .string(head.method.rawValue), "path": .string(String(path.prefix(2048))),
            "status": .int(Int64(status)), "bytes_in": .int(bytesIn), "bytes_out": .int(bytesOut),
            "duration": .double(((now - started) * 1e6).rounded() / 1e6),
        ]
        if let range = head.headers.first(name: "range") { fields["range"] = .string(String(range.prefix(200))) }
        if let reason { fields["reason"] = .string(String(reason.prefix(1000))) }
        return fields
    }
}

/// Runs an import hook off the event loop; a thrown error becomes the reply.
func runImportHook(
    _ plugin: any Plugin, _ request: GuestRequest, _ sequence: RequestBodyStream.Producer, source: String
) async -> Answer {
    let body = RequestBodyStream.body(of: sequence, expectedLength: request.contentLength)
    do {
        return Answer(reply: try await plugin.importData(request, body: body), reason: nil)
    } catch {
        let refusal = HTTPDispatcher.reply(for: error, plugin: source)
        return Answer(reply: refusal.0, reason: refusal.1)
    }
}


/// An import hook's answer, carried back to the event loop.
struct Answer: Sendable {
    let reply: Reply
    let reason: String?
}
