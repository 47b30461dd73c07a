import NIOHTTP1
import PluginAPI

/// What the exchange handler asks the reply writer to send.
enum ResponseWrite {
    /// An interim head (100 Continue); the request's reply comes later.
    case interim(HTTPResponseHead)
    /// A request's whole reply; journaled once it has been sent.
    case reply(OutgoingReply)
    /// The bare answer to a request the codec could not parse; the connection closes after it.
    case protocolError(HTTPResponseStatus)
}

/// A reply with the record of its request.
struct OutgoingReply {
    var reply: Reply
    var record: RequestRecord
    /// False: `Connection: close`, and the connection closes once the reply is out.
    var keepAlive: Bool
}
