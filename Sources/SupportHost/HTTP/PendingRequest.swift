import NIOHTTP1
import PluginAPI

/// One request on its way through the connection's handlers, from its head to its reply: what
/// each stage decided, the record the journal gets, and at last the reply the writer sends.
///
/// A class, not a struct: it is passed from handler to handler in an `NIOAny`, where a struct
/// this size would be boxed (allocated) and copied at every step; one object per request costs
/// one allocation and a retain per step (measured: a struct copy per stage cost ~1.5 µs of CPU
/// per request).
final class PendingRequest {
    enum Action {
        /// No stage has decided yet (only before routing).
        case undecided
        /// The reply is known; it is sent when the request's end arrives.
        case answer(Reply)
        /// The body goes to this plug-in's import hook, which gives the reply.
        case importBody(any Plugin, GuestRequest)
        /// The export hook answered with `Reply.later`: the reply comes from this closure, run
        /// off the event loop like an import hook (a `GET` that waits).
        case answerLater(@Sendable () async throws -> Reply)
    }

    var record: RequestRecord
    /// The raw query string, without `?`.
    let query: String
    var action: Action
    /// False: `Connection: close`, and the connection closes once the reply is out.
    var keepAlive: Bool

    var head: HTTPRequestHead { record.head }

    /// The decided reply, if there is one yet.
    var reply: Reply? {
        if case .answer(let reply) = action { return reply }
        return nil
    }

    init(record: RequestRecord, query: String, action: Action = .undecided) {
        self.record = record
        self.query = query
        self.action = action
        keepAlive = record.head.isKeepAlive
    }

    /// Decides the reply, with the reason the journal gives for it.
    func answer(_ reply: Reply, reason: String?) {
        record.reason = reason
        action = .answer(reply)
    }
}
