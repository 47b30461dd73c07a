import NIOCore
import NIOHTTP1
import PluginAPI

/// Turns a plug-in's `Reply` into HTTP: the head with `Server`, `Content-Length` and, when the
/// connection ends after it, `Connection: close`; a body from memory; a file's slice from the
/// event loop's `OpenFileCache` by `sendfile` (`FileRegion`), or, for a small file, from
/// `SmallFileBytes` so that head and body leave in one write. Once the reply is out (or has
/// failed), it is journaled and, unless kept alive, the connection is closed.
final class ReplyWriter: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = ResponseWrite
    typealias OutboundOut = HTTPServerResponsePart

    /// Fired inbound (toward `RequestTimeouts`) once a kept-alive reply is out, or failed: the
    /// connection then waits for its next request.
    struct ReplySent: Sendable {}

    private let files: OpenFileCache
    private let recorder: RequestRecorder

    init(files: OpenFileCache, recorder: RequestRecorder) {
        self.files = files
        self.recorder = recorder
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .interim(let head):
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .protocolError(let status):
            let headers = HTTPHeaders([("Connection", "close"), ("Content-Length", "0"), ("Server", "SupportHost")])
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
            let channel = context.channel
            let done = promise ?? context.eventLoop.makePromise(of: Void.self)
            done.futureResult.whenComplete { _ in channel.close(promise: nil) }
            context.write(wrapOutboundOut(.end(nil)), promise: done)
        case .reply(let request):
            send(request, context: context, promise: promise)
        }
    }

    private func send(_ request: PendingRequest, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        // The exchange handler sends only decided requests; anything else is our bug, not the guest's.
        let reply = request.reply ?? .text(500, "no reply was decided\n")
        // The plug-in's headers in one pass, without those the writer sets itself (Content-Length
        // is added below on every path).
        var headers = HTTPHeaders()
        headers.reserveCapacity(reply.headers.count + 3)
        for (name, value) in reply.headers where !Self.isFraming(name, keepAlive: request.keepAlive) {
            headers.add(name: name, value: value)
        }
        headers.add(name: "Server", value: "SupportHost")
        if !request.keepAlive { headers.add(name: "Connection", value: "close") }

        var file: OpenFileCache.Entry?
        var region: FileRegion?
        var status = reply.status
        var bodyBuffer: ByteBuffer?
        let isHead = request.head.method == .HEAD
        switch reply.body {
        case .empty:
            headers.add(name: "Content-Length", value: "0")
        case .bytes(let data):
            headers.add(name: "Content-Length", value: String(data.count))
            if !isHead { bodyBuffer = context.channel.allocator.buffer(bytes: data) }
        case .file(let slice) where isHead || slice.length == 0:
            // Nothing to send: the plug-in's stat is the answer, no descriptor needed.
            headers.add(name: "Content-Length", value: String(slice.length))
        case .file(let slice):
            // A small file leaves with its head in one write; a larger one by sendfile.
            let opened = files.smallFiles.bytes(for: slice).map { $0.map(FileBody.bytes) }
                ?? files.checkOut(slice).map { FileBody.region($0) }
            switch opened {
            case .success(.bytes(let bytes)):
                bodyBuffer = bytes
                headers.add(name: "Content-Length", value: String(slice.length))
            case .success(.region(let entry)):
                file = entry
                region = FileRegion(fileHandle: entry.handle, readerIndex: Int(slice.offset), endIndex: Int(slice.offset + slice.length))
                headers.add(name: "Content-Length", value: String(slice.length))
            case .failure(let failure):
                status = failure.status
                request.record.reason = failure.reason
                Self.dropRepresentationHeaders(&headers)
                if status == 503 { headers.replaceOrAdd(name: "Retry-After", value: "1") }
                headers.replaceOrAdd(name: "Content-Length", value: "0")
            }
        }
        request.record.bytesOut = Int64(bodyBuffer?.readableBytes ?? region?.readableBytes ?? 0)
        request.record.status = status

        let head = HTTPResponseHead(version: request.head.version, status: HTTPResponseStatus(statusCode: status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let bodyBuffer { context.write(wrapOutboundOut(.body(.byteBuffer(bodyBuffer))), promise: nil) }
        if let region { context.write(wrapOutboundOut(.body(.fileRegion(region))), promise: nil) }
        let done = promise ?? context.eventLoop.makePromise(of: Void.self)
        // One capture for the callback: every value captured apart is retained and released apart.
        let sent = NIOLoopBound((writer: self, context: context, request: request, file: file), eventLoop: context.eventLoop)
        done.futureResult.whenComplete { result in
            let (writer, context, request, file) = sent.value
            if case .failure = result { writer.sent(request, file: file, failed: true, context: context) } else {
                writer.sent(request, file: file, failed: false, context: context)
            }
        }
        context.write(wrapOutboundOut(.end(nil)), promise: done)
    }

    /// The reply is out, or failed: the descriptor back, the record to the journal, then the
    /// next request's wait, or the close.
    private func sent(_ request: PendingRequest, file: OpenFileCache.Entry?, failed: Bool, context: ChannelHandlerContext) {
        if let file { files.checkIn(file) }
        recorder.replySent(request.record, failed: failed)
        if request.keepAlive { context.fireUserInboundEventTriggered(ReplySent()) } else { context.channel.close(promise: nil) }
    }

    /// A header the writer sets itself: a plug-in's is dropped (`Connection` only when the
    /// writer closes the connection).
    private static func isFraming(_ name: String, keepAlive: Bool) -> Bool {
        switch name.utf8.count {
        case 6: return name.lowercased() == "server"
        case 10: return !keepAlive && name.lowercased() == "connection"
        case 14: return name.lowercased() == "content-length"
        default: return false
        }
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
}
