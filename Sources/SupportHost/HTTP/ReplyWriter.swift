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
        var record = request.record
        // The exchange handler sends only decided requests; anything else is our bug, not the guest's.
        let reply = request.reply ?? .text(500, "no reply was decided\n")
        var headers = HTTPHeaders(reply.headers.map { ($0.name, $0.value) })
        headers.replaceOrAdd(name: "Server", value: "SupportHost")
        if !request.keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }

        var file: OpenFileCache.Entry?
        var region: FileRegion?
        var status = reply.status
        var bodyBuffer: ByteBuffer?
        let isHead = record.head.method == .HEAD
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
                record.reason = failure.reason
                Self.dropRepresentationHeaders(&headers)
                if status == 503 { headers.replaceOrAdd(name: "Retry-After", value: "1") }
                headers.replaceOrAdd(name: "Content-Length", value: "0")
            }
        }
        record.bytesOut = Int64(bodyBuffer?.readableBytes ?? region?.readableBytes ?? 0)
        record.status = status

        let head = HTTPResponseHead(version: record.head.version, status: HTTPResponseStatus(statusCode: status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let bodyBuffer { context.write(wrapOutboundOut(.body(.byteBuffer(bodyBuffer))), promise: nil) }
        if let region { context.write(wrapOutboundOut(.body(.fileRegion(region))), promise: nil) }
        let done = promise ?? context.eventLoop.makePromise(of: Void.self)
        let recorder = self.recorder
        let files = self.files
        let channel = context.channel
        let keepAlive = request.keepAlive
        let finished = record
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        done.futureResult.whenComplete { [file] result in
            if let file { files.checkIn(file) }
            if case .failure = result { recorder.replySent(finished, failed: true) } else { recorder.replySent(finished, failed: false) }
            if keepAlive { bound.value.fireUserInboundEventTriggered(ReplySent()) } else { channel.close(promise: nil) }
        }
        context.write(wrapOutboundOut(.end(nil)), promise: done)
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
