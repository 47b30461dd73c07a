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
    /// Closes a connection that does not complete its next request head in time (slowloris,
    /// or an idle keep-alive connection). One timer at most: each request moves the deadline,
    /// and the timer, when it fires early, sleeps again until it (scheduling and cancelling a
    /// timer per request showed in profiles).
    private var headTimer: Scheduled<Void>?
    private var headDeadline: NIODeadline?

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

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { armHeadTimer(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        headTimer?.cancel()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        armHeadTimer(context: context)
        context.fireChannelActive()
    }

    private func armHeadTimer(context: ChannelHandlerContext) {
        let deadline = NIODeadline.now() + .milliseconds(Int64(services.limits.idleTimeout * 1000))
        headDeadline = deadline
        if headTimer == nil { scheduleHeadTimer(at: deadline, context: context) }
    }

    private func scheduleHeadTimer(at deadline: NIODeadline, context: ChannelHandlerContext) {
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        headTimer = context.eventLoop.scheduleTask(deadline: deadline) { bound.value.headTimerFired() }
    }

    private func headTimerFired() {
        headTimer = nil
        guard let deadline = headDeadline, let context else { return }  // a request is under way
        if deadline <= .now() {
            context.close(promise: nil)
        } else {
            scheduleHeadTimer(at: deadline, context: context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // A request whose body or end stalls (no bytes for the idle timeout, though we are
        // reading) ends its connection; an import hook then sees its body fail. This holds for
        // every request, answered or not: a GET announcing a body it never sends, or a refused
        // one, must not hold a connection.
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read, !readPaused, awaitsRequestBytes {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// Whether a request has begun and its end has not arrived.
    private var awaitsRequestBytes: Bool {
        switch state {
        case .replyAtEnd, .ignoringRestOfBody: return true
        case .importing(let exchange, _): return !exchange.bodyComplete
        case .idle, .responding: return false
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if case .importing(let exchange, let source) = state {
            // A body cut short (the client hung up mid-upload): the import hook sees its body
            // fail, and its answer is journaled when it comes.
            if !exchange.bodyComplete { source.finish(BodyError.connectionClosed(received: exchange.bytesIn)) }
            context.close(promise: nil)
            return
        }
        // A request the codec cannot parse gets what NIO's own protocol error handler would
        // send, with 431 for oversized headers, is journaled, and its connection closed (left
        // open, the client would wait forever). A connection that ends mid-request (often our
        // own close after an early answer to an upload) is not a request the guest got wrong.
        guard let parserError = error as? HTTPParserError, parserError != .invalidEOFState else {
            context.close(promise: nil)
            return
        }
        let status: HTTPResponseStatus = parserError == .headerOverflow ? .requestHeaderFieldsTooLarge : .badRequest
        if case .idle = state {
            var headers = HTTPHeaders([("Connection", "close"), ("Content-Length", "0"), ("Server", "SupportHost")])
            headers.replaceOrAdd(name: "Content-Length", value: "0")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        } else {
            context.close(promise: nil)
        }
        state = .responding
        services.journal.append(source: "host", kind: "request", fields: [
            "method": "", "path": "", "status": .int(Int64(status.code)), "bytes_in": 0, "bytes_out": 0, "duration": 0,
            "reason": .string("malformed request: \(parserError)"),
        ])
    }

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
        headDeadline = nil
        var (path, query) = Self.split(head.uri)
        if let token = services.token {
            switch token.check(path: path, authorization: head.headers.first(name: "authorization")) {
            case .allowed(let inner):
                path = inner
            case .refused(let recordedPath):
                // No activity, no plug-in: a client without the token touches nothing.
                var exchange = Exchange(head: head, path: recordedPath, started: services.clock.elapsed)
                exchange.reason = "no valid run token"
                state = .replyAtEnd(exchange, .text(403, "this host serves its guest only: use the URL it was given, or Authorization: Bearer TOKEN\n"))
                return
            }
        }
        var exchange = Exchange(head: head, path: path, started: services.clock.elapsed)
        guard head.uri.utf8.count <= services.limits.maxRequestLine else {
            exchange.reason = "request target longer than \(services.limits.maxRequestLine) bytes"
            state = .replyAtEnd(exchange, .text(414, "request target too long\n"))
            return
        }
        services.activity.request(head.method.rawValue, path)
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
            if let id = head.headers.first(name: "x-request-id") {
                guard id.utf8.count <= AnsweredRequests.maxIDLength else {
                    exchange.reason = "X-Request-Id longer than \(AnsweredRequests.maxIDLength) bytes"
                    state = .replyAtEnd(exchange, .text(400, "X-Request-Id is too long\n"))
                    return
                }
                switch services.answered.begin(id) {
                case .answered(let answer):
                    exchange.reason = "duplicate of request \(id): answered again, not applied"
                    var reply = Reply(status: answer.status, body: .bytes(answer.body))
                    if let type = answer.contentType { reply.headers.append(("Content-Type", type)) }
                    reply.headers.append(("X-Duplicate", "true"))
                    state = .replyAtEnd(exchange, reply)
                    return
                case .inFlight:
                    exchange.reason = "request \(id) is still being handled"
                    state = .replyAtEnd(exchange, .text(409, "request \(id) is still being handled\n"))
                    return
                case .new:
                    exchange.requestID = id
                }
            }
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
        let requestID = exchange.requestID
        let services = self.services
        let finished: @Sendable (Answer) -> Void = { answer in
            loop.execute { bound.value.importFinished(reply: answer.reply, reason: answer.reason) }
        }
        Task { [plugin, request, sequence, source, finished] in
            let answer = await runImportHook(plugin, request, sequence, source: source)
            if let requestID {
                await services.rememberAnswer(answer.reply, for: requestID)
            }
            finished(answer)
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
            services.journal.append(source: exchange.source, kind: "request", encodedFields: exchange.encodedFields(now: services.clock.elapsed))
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
            // A small file leaves with its head in one write; a larger one by sendfile.
            let opened = files.smallFiles.bytes(for: slice).map { $0.map(FileBody.bytes) }
                ?? files.checkOut(slice).map { FileBody.region($0) }
            switch opened {
            case .success(.bytes(let bytes)):
                bodyBuffer = bytes
                headers.replaceOrAdd(name: "Content-Length", value: String(slice.length))
            case .success(.region(let entry)):
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
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        // Idle before the callback is added: a reply written at once completes the future
        // already, and the callback then runs right here.
        if case .responding = state { state = .idle }
        done.futureResult.whenComplete { result in
            // The wait for the next head starts once this reply is out: a long download on a
            // keep-alive connection is not cut off by the idle timeout.
            bound.value.replySent()
            if let sentFile { files.checkIn(sentFile) }
            var record = finished
            if case .failure = result { record.reason = (record.reason.map { $0 + "; " } ?? "") + "client gone before the reply was sent" }
            services.activity.bytes(out: Int(record.bytesOut))
            services.journal.append(source: record.source, kind: "request", encodedFields: record.encodedFields(now: services.clock.elapsed))
            if !keepAlive { channel.close(promise: nil) }
        }
    }

    private func replySent() {
        guard case .idle = state, let context, context.channel.isActive else { return }
        armHeadTimer(context: context)
    }

    /// Where a file reply's bytes come from.
    private enum FileBody {
        case bytes(ByteBuffer)
        case region(OpenFileCache.Entry)
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
    var requestID: String?

    var announcedLength: Int64? { head.headers.first(name: "content-length").flatMap { Int64($0) } }

    init(head: HTTPRequestHead, path: String, started: Double) {
        self.head = head
        self.path = path
        self.started = started
    }

    /// The record's fields as a JSON object, written directly (keys in sorted order): one is
    /// written per request, and a dictionary of values per request showed up in profiles.
    func encodedFields(now: Double) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(160 + path.utf8.count)
        out += #"{"bytes_in":"#.utf8
        JSONWriter.writeInteger(bytesIn, to: &out)
        out += #","bytes_out":"#.utf8
        JSONWriter.writeInteger(bytesOut, to: &out)
        out += #","duration":"#.utf8
        JSONWriter.writeDouble(((now - started) * 1e6).rounded() / 1e6, to: &out)
        out += #","method":"#.utf8
        JSONWriter.writeString(head.method.rawValue, to: &out)
        out += #","path":"#.utf8
        JSONWriter.writeString(String(path.prefix(2048)), to: &out)
        if let range = head.headers.first(name: "range") {
            out += #","range":"#.utf8
            JSONWriter.writeString(String(range.prefix(200)), to: &out)
        }
        if let reason {
            out += #","reason":"#.utf8
            JSONWriter.writeString(String(reason.prefix(1000)), to: &out)
        }
        if let requestID {
            out += #","request_id":"#.utf8
            JSONWriter.writeString(requestID, to: &out)
        }
        out += #","status":"#.utf8
        JSONWriter.writeInteger(Int64(status), to: &out)
        out.append(UInt8(ascii: "}"))
        return out
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
