import NIOCore
import NIOHTTP1

/// The handlers of one connection, in order from the socket inward:
///
/// 1. `ConnectionAdmission` — its place in the connection budget, until the token proves it
/// 2. `IdleStateHandler` (NIO) — a read event after the idle timeout without bytes
/// 3. the HTTP/1.1 codec and `HTTPServerPipelineHandler` (NIO) — parsing, one request at a time
/// 4. `ReplyWriter` (outbound) — replies into HTTP, files by `sendfile`, the journal record
/// 5. `TokenCheckHandler` — the run token off the path; `RequestPart`s from here on
/// 6. `RoutingHandler` — the plug-in, the export hook's reply or the import hook to come,
///    `DuplicateDiscard` for uploads
/// 7. `RequestTimeouts` — the wait for a head, a stalled request
/// 8. `ExchangeHandler` — `ExchangeStateMachine`: replies at the request's end, bodies to hooks
///
/// Every event visits every handler's context on its way, whether the handler takes it or not:
/// the reply writer sits next to the codec so that the parts of each reply (head, body, end,
/// flush) do not pass the two inbound-only handlers.
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
        try pipeline.configureHTTPServerPipeline(
            withErrorHandling: false, withEncoderConfiguration: .init(), withDecoderLimitConfiguration: decoderLimits)
        try pipeline.addHandlers([
            ReplyWriter(files: files, recorder: services.recorder),
            TokenCheckHandler(tokens: services.tokens, guests: services.guests, clock: services.clock),
            RoutingHandler(
                router: services.router, activity: services.activity, answered: services.answered,
                maxRequestLine: limits.maxRequestLine),
            RequestTimeouts(idleTimeout: idle),
            ExchangeHandler(services: services),
        ])
    }
}
