import NIOHTTP1
import PluginAPI
import Testing

@testable import SupportHost

/// The life of one request, without a channel: each event and the action it asks for.
struct ExchangeStateMachineTests {
    static func answered(_ status: Int = 200, _ method: HTTPMethod = .GET, headers: [(String, String)] = []) -> PendingRequest {
        let request = HTTPFixture.pending(method, "/x", headers)
        request.action = .answer(.text(status, "x\n"))
        return request
    }

    static func upload(_ headers: [(String, String)] = [("Content-Length", "10")]) -> PendingRequest {
        let request = HTTPFixture.pending(.PUT, "/up/a", headers)
        let guest = GuestRequest(method: "PUT", path: "/up/a", namespace: .prefix("/up"), subpath: "/a")
        request.action = .importBody(HTTPFixture.Greeter(), guest)
        return request
    }

    @Test func aDecidedReplyIsSentAtTheRequestsEndAndTheConnectionIsIdleAgain() {
        var machine = ExchangeStateMachine()
        guard case .none = machine.receivedHead(Self.answered(204)) else { Issue.record("acted at the head"); return }
        #expect(machine.awaitsRequestBytes)
        guard case .none = machine.receivedBody(bytes: 5) else { Issue.record("a GET's body went somewhere"); return }
        guard case .send(let outgoing, false) = machine.receivedEnd() else { Issue.record("no reply at the end"); return }
        #expect(outgoing.reply?.status == 204)
        #expect(outgoing.keepAlive)
        #expect(!machine.awaitsRequestBytes)
        guard case .idle = machine.state else { Issue.record("not idle after the reply"); return }
    }

    @Test func aClientAskingForCloseGetsAReplyThatIsNotKeptAlive() {
        var machine = ExchangeStateMachine()
        _ = machine.receivedHead(Self.answered(200, headers: [("Connection", "close")]))
        guard case .send(let outgoing, _) = machine.receivedEnd() else { Issue.record("no reply"); return }
        #expect(!outgoing.keepAlive)
    }

    @Test func anUploadStreamsItsBodyAndIsAnsweredByTheHookAfterItsEnd() {
        var machine = ExchangeStateMachine()
        guard case .startImport(_, false) = machine.receivedHead(Self.upload()) else { Issue.record("no import"); return }
        guard case .yieldBody = machine.receivedBody(bytes: 4) else { Issue.record("body not yielded"); return }
        guard case .yieldBody = machine.receivedBody(bytes: 6) else { Issue.record("body not yielded"); return }
        guard case .finishBody(nil) = machine.receivedEnd() else { Issue.record("body not finished cleanly"); return }
        #expect(!machine.awaitsRequestBytes)
        guard case .send(let outgoing, false) = machine.importFinished(reply: .text(201, "10\n"), reason: nil, channelActive: true) else {
            Issue.record("hook's reply not sent"); return
        }
        #expect(outgoing.reply?.status == 201)
        #expect(outgoing.record.bytesIn == 10)
        #expect(outgoing.keepAlive)
    }

    @Test func aLaterReplyIsAwaitedLikeAnImportAndSentAfterTheRequestsEnd() {
        var machine = ExchangeStateMachine()
        let request = HTTPFixture.pending(.GET, "/later")
        request.action = .answerLater { .text(200, "later\n") }
        guard case .startImport(_, false) = machine.receivedHead(request) else { Issue.record("not started at the head"); return }
        guard case .finishBody(nil) = machine.receivedEnd() else { Issue.record("the request's end not taken"); return }
        guard case .send(let outgoing, false) = machine.importFinished(reply: .text(200, "later\n"), reason: nil, channelActive: true) else {
            Issue.record("the later reply not sent"); return
        }
        #expect(outgoing.reply?.status == 200)
        #expect(outgoing.keepAlive)
        #expect(machine.isIdle)
    }

    @Test func expectContinueIsAnsweredBeforeTheBody() {
        var machine = ExchangeStateMachine()
        guard case .startImport(_, true) = machine.receivedHead(Self.upload([("Expect", "100-continue")])) else {
            Issue.record("no 100 Continue"); return
        }
    }

    @Test func aBodyShorterThanItsContentLengthFailsTheHooksBody() {
        var machine = ExchangeStateMachine()
        _ = machine.receivedHead(Self.upload([("Content-Length", "10")]))
        _ = machine.receivedBody(bytes: 3)
        guard case .finishBody(.shorterThanAnnounced(received: 3, announced: 10)?) = machine.receivedEnd() else {
            Issue.record("short body not reported"); return
        }
    }

    @Test func aHookAnsweringBeforeTheBodysEndClosesAfterItsReplyAndIgnoresTheRest() {
        var machine = ExchangeStateMachine()
        _ = machine.receivedHead(Self.upload())
        _ = machine.receivedBody(bytes: 2)
        guard case .send(let outgoing, true) = machine.importFinished(reply: .text(413, "no\n"), reason: "too big", channelActive: true) else {
            Issue.record("early answer not sent with the body finished first"); return
        }
        #expect(!outgoing.keepAlive)
        #expect(outgoing.record.reason == "too big")
        #expect(machine.awaitsRequestBytes, "the rest of the body is still read (and ignored)")
        guard case .none = machine.receivedBody(bytes: 8) else { Issue.record("ignored body went somewhere"); return }
        guard case .none = machine.receivedEnd() else { Issue.record("acted at the ignored body's end"); return }
        guard case .idle = machine.state else { Issue.record("not idle"); return }
    }

    @Test func aHookAnswerAfterTheClientLeftIsOnlyJournaled() {
        var machine = ExchangeStateMachine()
        _ = machine.receivedHead(Self.upload())
        guard case .finishBody(.connectionClosed(received: 0)?) = machine.channelInactive() else { Issue.record("body not failed"); return }
        guard case .recordUnanswered(let record) = machine.importFinished(reply: .text(400, "x\n"), reason: "cut", channelActive: false) else {
            Issue.record("not journaled"); return
        }
        #expect(record.status == 400)
        #expect(record.reason == "cut")
    }

    @Test func aConnectionLostMidUploadFailsTheBodyAndCloses() {
        var machine = ExchangeStateMachine()
        _ = machine.receivedHead(Self.upload())
        _ = machine.receivedBody(bytes: 7)
        guard case .failBodyAndClose(.connectionClosed(received: 7)) = machine.errorCaught(HTTPParserError.invalidEOFState) else {
            Issue.record("body not failed"); return
        }
    }

    @Test func aMalformedRequestBetweenRequestsIsAnsweredAndOneMidRequestIsOnlyJournaled() {
        var idle = ExchangeStateMachine()
        guard case .rejectMalformed(.requestHeaderFieldsTooLarge, .headerOverflow) = idle.errorCaught(HTTPParserError.headerOverflow) else {
            Issue.record("oversized headers not 431"); return
        }
        var busy = ExchangeStateMachine()
        _ = busy.receivedHead(Self.answered())
        guard case .recordMalformedAndClose(.badRequest, .invalidChunkSize) = busy.errorCaught(HTTPParserError.invalidChunkSize) else {
            Issue.record("mid-request error not journaled"); return
        }
        var hungUp = ExchangeStateMachine()
        guard case .close = hungUp.errorCaught(HTTPParserError.invalidEOFState) else { Issue.record("a hang-up is no malformed request"); return }
    }

    @Test func pipelinedRequestsAreAnsweredOneAfterAnother() {
        var machine = ExchangeStateMachine()
        var statuses: [Int] = []
        for status in [200, 404, 201] {
            _ = machine.receivedHead(Self.answered(status))
            if case .send(let outgoing, _) = machine.receivedEnd(), let reply = outgoing.reply { statuses.append(reply.status) }
        }
        #expect(statuses == [200, 404, 201])
    }
}
