import NIOCore
import NIOHTTP1

/// One request at a time, in order: what NIO's `HTTPServerPipelineHandler` did for us, in the
/// place of it (with it came the response encoder and header validator, three handlers that every
/// event of every request crossed).
///
/// A pipelined request's parts are held here from its head until the reply to the request
/// before it has been written (the `.reply` passing outward on its way to `ReplyWriter`), and
/// until the socket takes more: reading stops meanwhile, so what is held is at most what one
/// read event brought (NIO reads up to `maxMessagesPerRead` buffers in one), and a client that sends without reading its replies is left with full
/// socket buffers, not a host that buffers its replies without bound. A half-close or a parse
/// error that came after held requests waits behind them. After a reply that closes the
/// connection, nothing more is passed on.
final class RequestSequencer: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = ResponseWrite
    typealias OutboundOut = ResponseWrite

    private enum Held {
        case part(NIOAny)
        case error(any Error)
        case inputClosed
    }

    private var held = CircularBuffer<Held>(initialCapacity: 0)
    /// A request's head has been passed on and its end has not.
    private var requestOpen = false
    /// A request has been passed on and its reply not yet written.
    private var replyOwed = false
    /// A reply that ends the connection has been written: the rest is dropped.
    private var closing = false
    private var readPending = false
    /// Held events are being passed on (a reply written meanwhile must not start a second pass).
    private var delivering = false

    /// Whether the next request may be passed on now.
    private func mayStartNext(_ context: ChannelHandlerContext) -> Bool {
        !replyOwed && !closing && context.channel.isWritable
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if closing, !requestOpen { return }
        if !held.isEmpty {
            held.append(.part(data))
            return
        }
        if case .head = unwrapInboundIn(data), !mayStartNext(context) {
            held.append(.part(data))
            return
        }
        deliver(data, context: context)
    }

    private func deliver(_ data: NIOAny, context: ChannelHandlerContext) {
        switch unwrapInboundIn(data) {
        case .head:
            requestOpen = true
            replyOwed = true
        case .body:
            break
        case .end:
            requestOpen = false
        }
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A parse error of bytes after a complete request waits for that request's reply.
        if error is HTTPParserError, !held.isEmpty || (replyOwed && !requestOpen) {
            held.append(.error(error))
        } else {
            context.fireErrorCaught(error)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if !held.isEmpty, let event = event as? ChannelEvent, event == .inputClosed {
            held.append(.inputClosed)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { deliverHeld(context: context) }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        held.removeAll()
        context.fireChannelInactive()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let ends: Bool
        switch unwrapOutboundIn(data) {
        case .interim: ends = false
        case .reply(let request):
            ends = true
            if !request.keepAlive { closing = true }
        case .protocolError:
            ends = true
            closing = true
        }
        context.write(data, promise: promise)
        guard ends else { return }
        replyOwed = false
        if closing { held.removeAll() }
        deliverHeld(context: context)
    }

    func read(context: ChannelHandlerContext) {
        // A request's body is read while it streams; between requests, only when the next may start.
        if requestOpen || (held.isEmpty && mayStartNext(context)) {
            context.read()
        } else {
            readPending = true
        }
    }

    /// Passes on what was held, as far as the requests' replies and the socket allow, then reads
    /// again if a read was asked for meanwhile.
    private func deliverHeld(context: ChannelHandlerContext) {
        guard !delivering else { return }
        delivering = true
        var delivered = false
        while let first = held.first {
            if case .part(let data) = first, case .head = unwrapInboundIn(data), !mayStartNext(context) { break }
            // Removed before it is passed on: passing it on may write a reply, and so come back here.
            held.removeFirst()
            switch first {
            case .part(let data):
                deliver(data, context: context)
                delivered = true
            case .error(let error):
                context.fireErrorCaught(error)
            case .inputClosed:
                context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
            }
        }
        delivering = false
        if delivered { context.fireChannelReadComplete() }
        if readPending, requestOpen || (held.isEmpty && mayStartNext(context)) {
            readPending = false
            context.read()
        }
    }
}
