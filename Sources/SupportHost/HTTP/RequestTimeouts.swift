import NIOCore

/// The connection's clocks. Waiting for a request head (a new connection, a keep-alive one after
/// its reply, or a client trickling its header lines) may last the idle timeout, then the
/// connection is closed. A request whose body or end stalls — no bytes for the idle timeout
/// (`IdleStateHandler`'s read event) while we are reading — is closed too, answered or not: a GET
/// announcing a body it never sends, or a refused one, must not hold a connection. A reply being
/// sent, however long, is never cut off.
///
/// Sits just before the exchange handler: it sees each request's head and end, and hears from
/// the reply writer (`ReplyWriter.ReplySent`, an inbound event) when a reply is out — no look at
/// the outbound traffic, and no second callback on each reply's future (both measured).
final class RequestTimeouts: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = RequestPart
    typealias InboundOut = RequestPart
    typealias OutboundIn = Any

    private let idleTimeout: TimeAmount
    /// One timer at most: each request moves the deadline, and the timer, when it fires early,
    /// sleeps again until it (scheduling and cancelling a timer per request showed in profiles).
    private var headTimer: Scheduled<Void>?
    /// Nil while a request is under way.
    private var headDeadline: NIODeadline?
    /// Heads received and replies sent: equal, the connection waits for its next head.
    private var headsReceived: UInt64 = 0
    private var repliesSent: UInt64 = 0
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
        case .headAndEnd:
            headDeadline = nil
            headsReceived &+= 1
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

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ReplyWriter.ReplySent {
            repliesSent &+= 1
            // The wait for the next head starts once the reply is out: a long download on a
            // keep-alive connection is not cut off by the idle timeout. A pipelined request
            // that came meanwhile has its own clock: its reply's.
            if repliesSent == headsReceived, context.channel.isActive { armHeadTimer(context: context) }
            context.fireUserInboundEventTriggered(event)
            return
        }
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read, inRequest, reading {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
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
