import NIOCore

/// A request as the handlers after the token check see it: the head with the stages'
/// decisions, then the body and the end as the codec gave them.
enum RequestPart {
    case head(PendingRequest)
    case body(ByteBuffer)
    case end
}
