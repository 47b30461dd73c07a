import NIOHTTP1
import PluginAPI

/// A request head on its way through the connection's handlers, with what each has decided.
///
/// A class, not a struct: it is passed from handler to handler in an `NIOAny`, and a struct
/// this size would be boxed again at every step.
final class PendingRequest {
    enum Action {
        /// No stage has decided yet (only before routing).
        case undecided
        /// The reply is known; it is sent when the request's end arrives.
        case answer(Reply)
        /// The body goes to this plug-in's import hook, which gives the reply.
        case importBody(any Plugin, GuestRequest)
    }

    var record: RequestRecord
    /// The raw query string, without `?`.
    let query: String
    var action: Action

    var head: HTTPRequestHead { record.head }

    init(record: RequestRecord, query: String, action: Action = .undecided) {
        self.record = record
        self.query = query
        self.action = action
    }

    /// Decides the reply, with the reason the journal gives for it.
    func answer(_ reply: Reply, reason: String?) {
        record.reason = reason
        action = .answer(reply)
    }
}
