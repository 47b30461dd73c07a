import FoundationEssentials
import NIOCore
import NIOHTTP1
import PluginAPI

/// The last handler of a connection: carries out what `ExchangeStateMachine` decides. A decided
/// reply goes out at the request's end; an upload's body streams to its import hook, which runs
/// off the event loop, with back-pressure (reading stops while the hook falls behind). A hook
/// that throws ends its request, never the connection's neighbours or the server.
final class ExchangeHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = RequestPart
    typealias OutboundIn = ResponseWrite
    typealias OutboundOut = ResponseWrite

    private let services: ServerServices
    private let recorder: RequestRecorder
    private var machine = ExchangeStateMachine()
    /// The body of the import under way.
    private var source: RequestBodyStream.Producer.Source?
    private var readPaused = false
    private var readPending = false
    private var context: ChannelHandlerContext?
    /// The client will send nothing more (half-close); the connection ends once it is idle.
    private var inputClosed = false
    /// A reply has been handed to the writer and is not out yet.
    private var replyInFlight = false
    /// The guest of the request whose body is arriving: its bytes are its activity.
    private var bodyGuest = GuestDescription.defaultName

    init(services: ServerServices) {
        self.services = services
        recorder = services.recorder
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request):
            bodyGuest = request.record.guest
            perform(machine.receivedHead(request), context: context)
        case .headAndEnd(let request):
            perform(machine.receivedHead(request), context: context)
            perform(machine.receivedEnd(), context: context)
        case .body(let buffer):
            services.activity.bytes(in: buffer.readableBytes, guest: bodyGuest)
            if case .yieldBody = machine.receivedBody(bytes: buffer.readableBytes), let source {
                if source.yield(Data(buffer.readableBytesView)) == .stopProducing { readPaused = true }
            }
        case .end:
            perform(machine.receivedEnd(), context: context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ReplyWriter.ReplySent {
            replyInFlight = false
            if inputClosed, machine.isIdle { context.close(promise: nil) }
            return
        }
        if let event = event as? ChannelEvent, event == .inputClosed {
            inputClosed = true
            perform(machine.inputClosed(), context: context)
            if machine.isIdle, !replyInFlight { context.close(promise: nil) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        perform(machine.errorCaught(error), context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        perform(machine.channelInactive(), context: context)
        context.fireChannelInactive()
    }

    func read(context: ChannelHandlerContext) {
        if readPaused { readPending = true } else { context.read() }
    }

    private func resumeReading() {
        guard readPaused else { return }
        readPaused = false
        if readPending, let context {
            readPending = false
            context.read()
        }
    }

    private func perform(_ action: ExchangeStateMachine.Action, context: ChannelHandlerContext) {
        switch action {
        case .none, .yieldBody:
            break
        case .startImport(let request, let sendContinue):
            startImport(request, sendContinue: sendContinue, context: context)
        case .finishBody(let error):
            finishBody(error)
        case .send(let request, let finishBodyFirst):
            if finishBodyFirst {
                finishBody(nil)
                resumeReading()
            }
            replyInFlight = true
            context.writeAndFlush(wrapOutboundOut(.reply(request)), promise: nil)
        case .recordUnanswered(let record):
            source = nil
            recorder.unanswered(record)
        case .failBodyAndClose(let error):
            finishBody(error)
            context.close(promise: nil)
        case .rejectMalformed(let status, let error):
            // What NIO's own protocol error handler would send, with 431 for oversized headers;
            // left open, the client would wait forever.
            context.writeAndFlush(wrapOutboundOut(.protocolError(status)), promise: nil)
            recorder.malformed(status: status, error)
        case .recordMalformedAndClose(let status, let error):
            context.close(promise: nil)
            recorder.malformed(status: status, error)
        case .close:
            context.close(promise: nil)
        }
    }

    private func finishBody(_ error: BodyError?) {
        guard let source else { return }
        if let error { source.finish(error) } else { source.finish() }
        self.source = nil
    }

    private func startImport(_ pending: PendingRequest, sendContinue: Bool, context: ChannelHandlerContext) {
        if case .answerLater(let produce) = pending.action { return startLater(produce, pending, context: context) }
        guard case .importBody(let plugin, let request) = pending.action else { return }
        let record = pending.record
        let loop = context.eventLoop
        let bound = NIOLoopBound(self, eventLoop: loop)
        let stream = RequestBodyStream(gate: ReadGate { loop.execute { bound.value.resumeReading() } })
        source = stream.source
        if sendContinue {
            context.writeAndFlush(wrapOutboundOut(.interim(HTTPResponseHead(version: record.head.version, status: .continue))), promise: nil)
        }
        let sequence = stream.sequence
        let pluginName = record.source
        let requestID = record.requestID
        let services = self.services
        let finished: @Sendable (Answer) -> Void = { answer in
            loop.execute { bound.value.importFinished(answer) }
        }
        Task { [plugin, request, sequence, pluginName, finished] in
            let answer = await runImportHook(plugin, request, sequence, source: pluginName)
            if let requestID {
                await services.rememberAnswer(answer.reply, for: requestID)
            }
            finished(answer)
        }
    }

    /// An export hook's `Reply.later`, awaited off the loop; its reply comes back as an import
    /// hook's does. (A `GET` is not de-duplicated: nothing is remembered for its `X-Request-Id`.)
    private func startLater(_ produce: @escaping @Sendable () async throws -> Reply, _ pending: PendingRequest, context: ChannelHandlerContext) {
        let loop = context.eventLoop
        let bound = NIOLoopBound(self, eventLoop: loop)
        let pluginName = pending.record.source
        Task {
            let answer = await runLaterReply(produce, source: pluginName)
            loop.execute { bound.value.importFinished(answer) }
        }
    }

    private func importFinished(_ answer: Answer) {
        let active = context?.channel.isActive ?? false
        let action = machine.importFinished(reply: answer.reply, reason: answer.reason, channelActive: active)
        guard let context else {
            if case .recordUnanswered(let record) = action { recorder.unanswered(record) }
            return
        }
        perform(action, context: context)
    }
}

/// Runs an import hook off the event loop; a thrown error becomes the reply.
func runImportHook(
    _ plugin: any Plugin, _ request: GuestRequest, _ sequence: RequestBodyStream.Producer, source: String
) async -> Answer {
    let body = RequestBodyStream.body(of: sequence, expectedLength: request.contentLength)
    do {
        return Answer(reply: try await plugin.importData(request, body: body).resolved(), reason: nil)
    } catch {
        let refusal = HookFailure.reply(for: error, plugin: source)
        return Answer(reply: refusal.reply, reason: refusal.reason)
    }
}

/// Awaits an export hook's `Reply.later`; a thrown error becomes the reply.
func runLaterReply(_ produce: @Sendable () async throws -> Reply, source: String) async -> Answer {
    do {
        return Answer(reply: try await produce().resolved(), reason: nil)
    } catch {
        let refusal = HookFailure.reply(for: error, plugin: source)
        return Answer(reply: refusal.reply, reason: refusal.reason)
    }
}

/// An import hook's answer, carried back to the event loop.
struct Answer: Sendable {
    let reply: Reply
    let reason: String?
}
