import NIOHTTP1

/// What the exchange handler asks the reply writer to send.
enum ResponseWrite {
    /// An interim head (100 Continue); the request's reply comes later.
    case interim(HTTPResponseHead)
    /// A request's whole reply (its `reply`, `keepAlive` and record); journaled once sent.
    case reply(PendingRequest)
    /// The bare answer to a request the codec could not parse; the connection closes after it.
    case protocolError(HTTPResponseStatus)
}
