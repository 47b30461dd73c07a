import NIOCore

/// The connection's first handler: it holds the connection's place in the server's
/// `ConnectionBudget`, and marks the connection as the guest's when the token check says it
/// presented the run token (a `TokenPresented` outbound event), so that it is never dropped to
/// make room for a newcomer; then it leaves the pipeline. The place is released when the
/// connection closes, whether the handler is still there or not.
final class ConnectionAdmission: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = Any

    /// Sent toward the head of the pipeline by the token check, once per connection.
    struct TokenPresented: Sendable {}

    private let budget: ConnectionBudget
    let id: UInt64

    /// Admits `channel` (the handler to add first), or refuses and closes it (nil).
    static func admit(_ channel: any Channel, budget: ConnectionBudget) -> ConnectionAdmission? {
        budget.admit(channel).map { ConnectionAdmission(budget: budget, id: $0) }
    }

    init(budget: ConnectionBudget, id: UInt64) {
        self.budget = budget
        self.id = id
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard event is TokenPresented else {
            return context.triggerUserOutboundEvent(event, promise: promise)
        }
        budget.prove(id)
        promise?.succeed()
        // Proven for good: nothing more to do here, and every write, flush and read of the
        // connection would otherwise pass through this handler.
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
