import FoundationEssentials
import NIOCore
import NIOHTTP1
import PluginAPI

/// Turns a plug-in's `Reply` into HTTP bytes (`ResponseHead`): the head with `Server`,
/// `Content-Length` and, when the connection ends after it, `Connection: close`; a body from
/// memory in the same buffer as the head; a file's slice from the event loop's `OpenFileCache` by
/// `sendfile` (`FileRegion`), or, for a small file, from `SmallFileBytes` so that head and body
/// leave in one write. Every reply has a length, so nothing is ever sent chunked. A plug-in's
/// header with CR or LF in it (`HeaderField`) makes the reply a 500, never a split header. Once
/// the reply is out (or has failed), it is journaled and, unless kept alive, the connection is
/// closed.
final class ReplyWriter: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = ResponseWrite
    typealias OutboundOut = IOData

    /// Fired inbound (toward `RequestTimeouts`) once a kept-alive reply is out, or failed: the
    /// connection then waits for its next request.
    struct ReplySent: Sendable {}

    /// A body up to this size is copied behind its head (one buffer, one iovec); a larger one
    /// is a second buffer of the same `writev`.
    static let copiedBodyLimit = 16 << 10

    private let files: OpenFileCache
    private let recorder: RequestRecorder

    init(files: OpenFileCache, recorder: RequestRecorder) {
        self.files = files
        self.recorder = recorder
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .interim(let head):
            var line = ResponseHead(allocator: context.channel.allocator, version: head.version, status: Int(head.status.code), capacity: 32)
            context.write(wrapOutboundOut(.byteBuffer(line.finish())), promise: promise)
        case .protocolError(let status):
            var head = ResponseHead(allocator: context.channel.allocator, version: .http1_1, status: Int(status.code), capacity: 96)
            head.add("Connection", "close")
            head.add("Content-Length", "0")
            head.add("Server", "SupportHost")
            let channel = context.channel
            let done = promise ?? context.eventLoop.makePromise(of: Void.self)
            done.futureResult.whenComplete { _ in channel.close(promise: nil) }
            context.write(wrapOutboundOut(.byteBuffer(head.finish())), promise: done)
        case .reply(let request):
            send(request, context: context, promise: promise)
        }
    }

    private func send(_ request: PendingRequest, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        // The exchange handler sends only decided requests; anything else is our bug, not the guest's.
        var reply = request.reply ?? .text(500, "no reply was decided\n")
        if let refusal = Self.unsendable(reply) {
            request.record.reason = refusal
            reply = .text(500, "the plug-in's reply could not be sent\n")
        }
        var status = reply.status
        // HEAD, 204 and 304 replies announce what a GET would get (or nothing) and carry no body.
        let sendsBody = request.head.method != .HEAD && ResponseHead.mayHaveBody(status)

        var file: OpenFileCache.Entry?
        var region: FileRegion?
        var bodyBuffer: ByteBuffer?
        var bodyBytes: Data?
        var length: Int64 = 0
        var lostFile = false
        switch reply.body {
        case .empty:
            break
        case .bytes(let data):
            length = Int64(data.count)
            if sendsBody { bodyBytes = data }
        case .file(let slice) where !sendsBody || slice.length == 0:
            // Nothing to send: the plug-in's stat is the answer, no descriptor needed.
            length = slice.length
        case .file(let slice):
            // A small file leaves with its head in one write; a larger one by sendfile.
            let opened = files.smallFiles.bytes(for: slice).map { $0.map(FileBody.bytes) }
                ?? files.checkOut(slice).map { FileBody.region($0) }
            switch opened {
            case .success(.bytes(let bytes)):
                bodyBuffer = bytes
                length = slice.length
            case .success(.region(let entry)):
                file = entry
                region = FileRegion(fileHandle: entry.handle, readerIndex: Int(slice.offset), endIndex: Int(slice.offset + slice.length))
                length = slice.length
            case .failure(let failure):
                status = failure.status
                request.record.reason = failure.reason
                lostFile = true
            }
        }
        request.record.bytesOut = sendsBody ? length : 0
        request.record.status = status

        let bodySize = bodyBytes?.count ?? bodyBuffer?.readableBytes ?? 0
        let copied = bodySize <= Self.copiedBodyLimit
        var head = ResponseHead(
            allocator: context.channel.allocator, version: request.head.version, status: status,
            capacity: 128 + Self.size(of: reply.headers) + (copied ? bodySize : 0))
        for (name, value) in reply.headers where !Self.isFraming(name) && !(lostFile && Self.describesFile(name)) {
            head.add(name, value)
        }
        head.add("Server", "SupportHost")
        if !request.keepAlive {
            head.add("Connection", "close")
        } else if request.head.version.minor == 0 {
            // An HTTP/1.0 client closes after the reply unless told the connection stays.
            head.add("Connection", "keep-alive")
        }
        if lostFile, status == 503 { head.add("Retry-After", "1") }
        if ResponseHead.mayHaveBody(status) { head.addContentLength(length) }

        var buffer = head.finish()
        if copied, let bytes = bodyBytes { buffer.writeBytes(bytes) } else if copied, var bodyBuffer { buffer.writeBuffer(&bodyBuffer) }
        let done = promise ?? context.eventLoop.makePromise(of: Void.self)
        // One capture for the callback: every value captured apart is retained and released apart.
        let sent = NIOLoopBound((writer: self, context: context, request: request, file: file), eventLoop: context.eventLoop)
        done.futureResult.whenComplete { result in
            let (writer, context, request, file) = sent.value
            if case .failure = result { writer.sent(request, file: file, failed: true, context: context) } else {
                writer.sent(request, file: file, failed: false, context: context)
            }
        }
        if let region {
            context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: nil)
            context.write(wrapOutboundOut(.fileRegion(region)), promise: done)
        } else if !copied {
            context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: nil)
            let body = bodyBuffer ?? context.channel.allocator.buffer(bytes: bodyBytes ?? Data())
            context.write(wrapOutboundOut(.byteBuffer(body)), promise: done)
        } else {
            context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: done)
        }
    }

    /// Why a reply cannot be put into HTTP as it is, or nil when it can.
    private static func unsendable(_ reply: Reply) -> String? {
        guard (100...999).contains(reply.status) else { return "the plug-in's reply has the status \(reply.status), not three digits" }
        for (name, value) in reply.headers where !HeaderField.isValid(name: name, value: value) {
            return "the plug-in's reply has a header that is not valid HTTP (\(name.debugDescription)): CR, LF or NUL in it, or a name that is not a token"
        }
        return nil
    }

    private static func size(of headers: [(name: String, value: String)]) -> Int {
        var size = 0
        for (name, value) in headers { size += name.utf8.count + value.utf8.count + 4 }
        return size
    }

    /// The reply is out, or failed: the descriptor back, the record to the journal, then the
    /// next request's wait, or the close.
    private func sent(_ request: PendingRequest, file: OpenFileCache.Entry?, failed: Bool, context: ChannelHandlerContext) {
        if let file { files.checkIn(file) }
        recorder.replySent(request.record, failed: failed)
        if request.keepAlive { context.fireUserInboundEventTriggered(ReplySent()) } else { context.channel.close(promise: nil) }
    }

    /// A header the writer sets itself; a plug-in's is dropped.
    private static func isFraming(_ name: String) -> Bool {
        switch name.utf8.count {
        case 6: return name.lowercased() == "server"
        case 10: return name.lowercased() == "connection"
        case 14: return name.lowercased() == "content-length"
        case 17: return name.lowercased() == "transfer-encoding"
        default: return false
        }
    }

    /// Where a file reply's bytes come from.
    private enum FileBody {
        case bytes(ByteBuffer)
        case region(OpenFileCache.Entry)
    }

    /// A reply that lost its file keeps no header that described the file (nor the plug-in's
    /// `Retry-After`: the writer sets its own).
    private static func describesFile(_ name: String) -> Bool {
        ["content-range", "etag", "last-modified", "accept-ranges", "content-type", "retry-after"].contains(name.lowercased())
    }
}
