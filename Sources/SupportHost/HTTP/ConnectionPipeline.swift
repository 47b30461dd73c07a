import NIOCore
import NIOHTTP1

/// The handlers of one connection, in order from the socket inward:
///
/// 1. `ConnectionAdmission` — its place in the connection budget, until the token proves it
/// 2. `IdleStateHandler` (NIO) — a read event after the idle timeout without bytes
/// 3. `HTTPRequestDecoder` (NIO's llhttp) — parsing
/// 4. `ReplyWriter` (outbound) — replies into HTTP bytes, files by `sendfile`, the journal record
/// 5. `RequestSequencer` — one request at a time, reading held back while a reply is owed
/// 6. `TokenCheckHandler` — the run token off the path; `RequestPart`s from here on
/// 7. `RoutingHandler` — the plug-in, the export hook's reply or the import hook to come,
///    `DuplicateDiscard` for uploads
/// 8. `RequestTimeouts` — the wait for a head, a stalled request
/// 9. `ExchangeHandler` — `ExchangeStateMachine`: replies at the request's end, bodies to hooks
///
/// Every event visits every handler's context on its way, whether the handler takes it or not:
/// the reply writer sits next to the decoder so that each reply's bytes and flush pass no more
/// handlers than they must, and it writes HTTP itself (no NIO encoder, validator or pipelining
/// handler: three handlers fewer on every event).
enum ConnectionPipeline {
    /// Adds every handler after `ConnectionAdmission`, which the caller adds first when the
    /// connection is admitted.
    static func configure(_ pipeline: ChannelPipeline.SynchronousOperations, services: ServerServices, files: OpenFileCache) throws {
        let limits = services.limits
        var decoderLimits = NIOHTTPDecoderLimitConfiguration()
        decoderLimits.maxHeaderFieldSize = limits.maxHeaderBytes
        decoderLimits.maxHeaderListSize = limits.maxHeaderBytes
        decoderLimits.maxHeaderFieldCount = 200
        let idle = TimeAmount.milliseconds(Int64(limits.idleTimeout * 1000))
        try pipeline.addHandler(IdleStateHandler(readTimeout: idle))
        try pipeline.addHandlers([
            ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes, informationalResponseStrategy: .drop, limitConfiguration: decoderLimits)),
            ReplyWriter(files: files, recorder: services.recorder),
            RequestSequencer(),
            TokenCheckHandler(tokens: services.tokens, guests: services.guests, clock: services.clock),
            RoutingHandler(
                router: services.router, activity: services.activity, answered: services.answered,
                maxRequestLine: limits.maxRequestLine),
            RequestTimeouts(idleTimeout: idle),
            ExchangeHandler(services: services),
        ])
    }
}
