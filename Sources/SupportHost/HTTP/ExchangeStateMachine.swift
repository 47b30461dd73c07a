import NIOHTTP1
import PluginAPI

/// The life of one request on a connection, with no channel in sight: what arrived (head, body,
/// end, the import hook's answer, an error, the hang-up) and what the handler must do about it.
/// The request itself (`PendingRequest`) is an object the handlers share; the machine fills in
/// its reply, bytes in and keep-alive, and keeps only where the exchange stands.
///
/// idle → answerAtEnd (a reply decided at the head) → idle after the reply, at the request's end
/// idle → importing (the body streams to a hook) → idle after the hook's reply
///        └ the hook answered before the body's end → ignoringRestOfBody, and the connection
///          closes after the reply
/// A `Reply.later` of an export hook takes the importing path with no body to stream: its
/// closure runs off the loop and its reply is the "hook's answer".
/// Pipelined requests arrive one at a time: `RequestSequencer` holds the next head until this
/// reply has been written.
struct ExchangeStateMachine {
    enum State {
        case idle
        /// The reply is decided; it is sent when the request's end arrives.
        case answerAtEnd(PendingRequest)
        /// The body streams to an import hook.
        case importing(PendingRequest, bodyComplete: Bool)
        /// The import hook answered before the body ended; the rest is ignored and the
        /// connection closes after the reply.
        case ignoringRestOfBody
        /// A protocol error: nothing more is done on this connection.
        case failed
    }

    enum Action {
        case none
        /// Start the request's import hook (answering `100 Continue` first when the client asked),
        /// or its `Reply.later`.
        case startImport(PendingRequest, sendContinue: Bool)
        /// Hand the body bytes to the import hook.
        case yieldBody
        /// The body is complete (`nil`) or ended wrong; the hook sees it end.
        case finishBody(BodyError?)
        /// Send the request's reply; with `finishBodyFirst`, tell the hook its body ends here, and
        /// read on (the rest is discarded) until the connection closes after the reply.
        case send(PendingRequest, finishBodyFirst: Bool)
        /// The hook's answer has nobody to hear it: journal it only.
        case recordUnanswered(RequestRecord)
        /// A body cut short: the hook sees it fail; then close.
        case failBodyAndClose(BodyError)
        /// Answer a request the codec could not parse, journal it, close.
        case rejectMalformed(HTTPResponseStatus, HTTPParserError)
        /// Journal a request the codec could not parse, close without a reply (one is under way).
        case recordMalformedAndClose(HTTPResponseStatus, HTTPParserError)
        case close
    }

    private(set) var state = State.idle

    /// Whether a request's head has come and its end has not: the request still owes us bytes.
    var awaitsRequestBytes: Bool {
        switch state {
        case .answerAtEnd, .ignoringRestOfBody: return true
        case .importing(_, let bodyComplete): return !bodyComplete
        case .idle, .failed: return false
        }
    }

    mutating func receivedHead(_ request: PendingRequest) -> Action {
        switch request.action {
        case .answer:
            state = .answerAtEnd(request)
            return .none
        case .undecided:
            // Every head is decided by the routing handler; one that is not is a bug, never the
            // guest's fault: answer 500 rather than hang.
            request.answer(.text(500, "no handler decided this request\n"), reason: "no handler decided this request")
            state = .answerAtEnd(request)
            return .none
        case .answerLater:
            state = .importing(request, bodyComplete: false)
            return .startImport(request, sendContinue: false)
        case .importBody:
            state = .importing(request, bodyComplete: false)
            let expect = request.head.headers.first(name: "expect")?.lowercased() == "100-continue"
            return .startImport(request, sendContinue: expect)
        }
    }

    mutating func receivedBody(bytes: Int) -> Action {
        guard case .importing(let request, _) = state else { return .none }
        request.record.bytesIn += Int64(bytes)
        return .yieldBody
    }

    mutating func receivedEnd() -> Action {
        switch state {
        case .answerAtEnd(let request):
            state = .idle
            return .send(request, finishBodyFirst: false)
        case .importing(let request, _):
            state = .importing(request, bodyComplete: true)
            let record = request.record
            if let announced = record.announcedLength, record.bytesIn < announced {
                return .finishBody(.shorterThanAnnounced(received: record.bytesIn, announced: announced))
            }
            return .finishBody(nil)
        case .ignoringRestOfBody:
            state = .idle
            return .none
        case .idle, .failed:
            return .none
        }
    }

    /// The import hook answered; `channelActive` says whether anyone is still there to hear it.
    mutating func importFinished(reply: Reply, reason: String?, channelActive: Bool) -> Action {
        guard case .importing(let request, let bodyComplete) = state else { return .none }
        request.answer(reply, reason: reason)
        guard channelActive else {
            state = .idle
            var record = request.record
            record.status = reply.status
            return .recordUnanswered(record)
        }
        if bodyComplete {
            state = .idle
            return .send(request, finishBodyFirst: false)
        }
        // The hook answered before the whole body came: answer, then close the connection
        // rather than read a body nobody wants.
        state = .ignoringRestOfBody
        request.keepAlive = false
        return .send(request, finishBodyFirst: true)
    }

    mutating func errorCaught(_ error: any Error) -> Action {
        if case .importing(let request, let bodyComplete) = state {
            // A body cut short (the client hung up mid-upload): the import hook sees its body
            // fail, and its answer is journaled when it comes.
            return bodyComplete ? .close : .failBodyAndClose(.connectionClosed(received: request.record.bytesIn))
        }
        // A connection that ends mid-request (often our own close after an early answer to an
        // upload) is not a request the guest got wrong.
        guard let parserError = error as? HTTPParserError, parserError != .invalidEOFState else { return .close }
        let status: HTTPResponseStatus = parserError == .headerOverflow ? .requestHeaderFieldsTooLarge : .badRequest
        let wasIdle: Bool
        if case .idle = state { wasIdle = true } else { wasIdle = false }
        state = .failed
        return wasIdle ? .rejectMalformed(status, parserError) : .recordMalformedAndClose(status, parserError)
    }

    /// The client shut its sending side (a half-close, as `nc` does at the end of its input):
    /// a request it sent whole is still answered, and the connection closes after the reply.
    /// An idle connection is the handler's to close, once no reply is on its way out.
    mutating func inputClosed() -> Action {
        switch state {
        case .importing(let request, true), .answerAtEnd(let request):
            // A request whose end did not come fails in the codec (an EOF mid-message) first.
            request.keepAlive = false
            return .none
        case .importing(let request, false):
            return .failBodyAndClose(.connectionClosed(received: request.record.bytesIn))
        case .idle, .ignoringRestOfBody, .failed:
            return .none
        }
    }

    var isIdle: Bool {
        if case .idle = state { return true }
        return false
    }

    /// The connection closed.
    mutating func channelInactive() -> Action {
        guard case .importing(let request, false) = state else { return .none }
        return .finishBody(.connectionClosed(received: request.record.bytesIn))
    }
}
