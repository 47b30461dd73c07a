import NIOCore

/// The connection's clocks. Waiting for a request head (a new connection, a keep-alive one after
/// its reply, or a client trickling its header lines) may last the idle timeout, then the
/// connection is closed. A request whose body or end stalls — no bytes for the idle timeout
/// (`IdleStateHandler`'s read event) while we are reading — is closed too, answered or not: a GET
/// announcing a body it never sends, or a refused one, must not hold a connection. A reply being
/// sent, however long, is never cut off.
///
/// Sits just before the exchange handler: it sees each request's head and end, and each whole
/// reply as one write (one look at the outbound traffic per reply, not one per HTTP part).
final class RequestTimeouts: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = RequestPart
    typealias InboundOut = RequestPart
    typealias OutboundIn = ResponseWrite
    typealias OutboundOut = ResponseWrite

    private let idleTimeout: TimeAmount
    /// One timer at most: each request moves the deadline, and the timer, when it fires early,
    /// sleeps again until it (scheduling and cancelling a timer per request showed in profiles).
    private var headTimer: Scheduled<Void>?
    /// Nil while a request is under way.
    private var headDeadline: NIODeadline?
    private var headsReceived: UInt64 = 0
    /// A request's head has come and its end has not.
    private var inRequest = false
    /// A `read` passed on since the last bytes came: a silence then is the client's. A handler
    /// further on that holds reads back (an import hook behind on its body) stops them reaching
    /// here, and the silence is ours.
    private var reading = false
    private var context: ChannelHandlerContext?

    init(idleTimeout: TimeAmount) {
        self.idleTimeout = idleTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { armHeadTimer(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        headTimer?.cancel()
        headTimer = nil
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        armHeadTimer(context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        reading = false
        switch unwrapInboundIn(data) {
        case .head:
            headDeadline = nil
            headsReceived &+= 1
            inRequest = true
        case .body:
            break
        case .end:
            inRequest = false
        }
        context.fireChannelRead(data)
    }

    func read(context: ChannelHandlerContext) {
        reading = true
        context.read()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .reply = unwrapOutboundIn(data) else { return context.write(data, promise: promise) }
        // The wait for the next head starts once this reply is out: a long download on a
        // keep-alive connection is not cut off by the idle timeout.
        let done = promise ?? context.eventLoop.makePromise(of: Void.self)
        let heads = headsReceived
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        done.futureResult.whenComplete { _ in bound.value.replySent(headsAtReply: heads) }
        context.write(data, promise: done)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read, inRequest, reading {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func replySent(headsAtReply: UInt64) {
        // A head that came meanwhile (a pipelined request) has its own clock: its reply's.
        guard headsReceived == headsAtReply, let context, context.channel.isActive else { return }
        armHeadTimer(context: context)
    }

    private func armHeadTimer(context: ChannelHandlerContext) {
        let deadline = context.eventLoop.now + idleTimeout
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
        if deadline <= context.eventLoop.now {
            context.close(promise: nil)
        } else {
            scheduleHeadTimer(at: deadline, context: context)
        }
    }
}
