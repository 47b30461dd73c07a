import NIOCore

/// A request as the handlers after the token check see it: the head with the stages'
/// decisions, then the body and the end as the codec gave them.
enum RequestPart {
    case head(PendingRequest)
    /// A request that cannot have a body (no `Transfer-Encoding`, no `Content-Length` above 0):
    /// its head and its end in one message. The codec gives both at once anyway, and every
    /// message costs a hop through each handler (measured with the split: GET 1 KiB).
    case headAndEnd(PendingRequest)
    case body(ByteBuffer)
    case end
}
