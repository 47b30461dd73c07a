import Foundation
import NIOCore
import NIOEmbedded
import NIOHTTP1
import PluginAPI
import Testing

@testable import SupportHost

/// Each HTTP handler alone on an `EmbeddedChannel`: what goes in, what comes out.
struct HTTPHandlerTests {
    // MARK: Token check

    static func tokenChannel(token: String? = HTTPFixture.token) throws -> (EmbeddedChannel, OutboundEventRecorder) {
        let channel = EmbeddedChannel()
        let events = OutboundEventRecorder()
        try channel.pipeline.syncOperations.addHandlers([events, TokenCheckHandler(token: token.map { RunToken(value: $0) }, clock: RunClock())])
        return (channel, events)
    }

    static func readHead(_ channel: EmbeddedChannel) throws -> PendingRequest? {
        switch try channel.readInbound(as: RequestPart.self) {
        case .head(let request)?, .headAndEnd(let request)?: return request
        default: return nil
        }
    }

    @Test func theTokenIsTakenOffThePathAndTheConnectionProvenOnce() throws {
        let (channel, events) = try Self.tokenChannel()
        try channel.writeInbound(HTTPServerRequestPart.head(HTTPFixture.head(.GET, "/t/\(HTTPFixture.token)/cpan/a.txt?x=1")))
        let first = try #require(try Self.readHead(channel))
        #expect(first.record.path == "/cpan/a.txt")
        #expect(first.query == "x=1")
        guard case .undecided = first.action else { Issue.record("decided by the token check"); return }
        try channel.writeInbound(HTTPServerRequestPart.head(HTTPFixture.head(.GET, "/cpan/b.txt", [("Authorization", "Bearer \(HTTPFixture.token)")])))
        #expect(try Self.readHead(channel)?.record.path == "/cpan/b.txt")
        #expect(events.events.count == 1)
        #expect(events.events.first is ConnectionAdmission.TokenPresented)
        _ = try channel.finish()
    }

    @Test func aRequestWithoutTheTokenIsAnswered403AndProvesNothing() throws {
        let (channel, events) = try Self.tokenChannel()
        try channel.writeInbound(HTTPServerRequestPart.head(HTTPFixture.head(.GET, "/t/wrong-token/cpan/a.txt")))
        let request = try #require(try Self.readHead(channel))
        guard case .answer(let reply) = request.action else { Issue.record("not refused"); return }
        #expect(reply.status == 403)
        #expect(request.record.reason == "no valid run token")
        #expect(request.record.path == "/t/…/cpan/a.txt", "the wrong token is not written down")
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        #expect(try channel.readInbound(as: RequestPart.self) == nil, "a GET without a body ended with its head")
        #expect(events.events.isEmpty)
        _ = try channel.finish()
    }

    @Test func aRequestWithoutABodyIsOneMessageAndOneWithABodyHasItsOwnEnd() throws {
        let (channel, _) = try Self.tokenChannel()
        let bodiless: [[(String, String)]] = [[], [("Content-Length", "0")]]
        for headers in bodiless {
            try channel.writeInbound(HTTPServerRequestPart.head(HTTPFixture.head(.GET, "/t/\(HTTPFixture.token)/a", headers)))
            guard case .headAndEnd? = try channel.readInbound(as: RequestPart.self) else { Issue.record("\(headers): not one message"); return }
            try channel.writeInbound(HTTPServerRequestPart.end(nil))
            #expect(try channel.readInbound(as: RequestPart.self) == nil)
        }
        let withBody: [[(String, String)]] = [[("Content-Length", "3")], [("Transfer-Encoding", "chunked")]]
        for headers in withBody {
            try channel.writeInbound(HTTPServerRequestPart.head(HTTPFixture.head(.PUT, "/t/\(HTTPFixture.token)/a", headers)))
            guard case .head? = try channel.readInbound(as: RequestPart.self) else { Issue.record("\(headers): no head alone"); return }
            try channel.writeInbound(HTTPServerRequestPart.body(ByteBuffer(string: "abc")))
            try channel.writeInbound(HTTPServerRequestPart.end(nil))
            guard case .body? = try channel.readInbound(as: RequestPart.self), case .end? = try channel.readInbound(as: RequestPart.self) else {
                Issue.record("\(headers): body or end not passed on"); return
            }
        }
        _ = try channel.finish()
    }

    @Test func withoutATokenEveryRequestIsLetIn() throws {
        let (channel, events) = try Self.tokenChannel(token: nil)
        try channel.writeInbound(HTTPServerRequestPart.head(HTTPFixture.head(.GET, "/")))
        guard case .undecided = try #require(try Self.readHead(channel)).action else { Issue.record("refused"); return }
        #expect(events.events.count == 1)
        _ = try channel.finish()
    }

    // MARK: Routing and duplicate discard

    static func route(_ request: PendingRequest, fixture: HTTPFixture) throws -> PendingRequest {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            RoutingHandler(
                router: fixture.services.router, activity: fixture.services.activity, answered: fixture.services.answered,
                maxRequestLine: 100))
        try channel.writeInbound(RequestPart.head(request))
        _ = try channel.finish()
        return request
    }

    @Test func routingAnswersGetsFromTheExportHookAndMarksUploadsForImport() throws {
        let fixture = try HTTPFixture()
        let get = try Self.route(HTTPFixture.pending(.GET, "/hello"), fixture: fixture)
        guard case .answer(let reply) = get.action else { Issue.record("GET not answered"); return }
        #expect(reply.text == "hello\n")
        #expect(get.record.source == "Greeter")
        let put = try Self.route(HTTPFixture.pending(.PUT, "/up/r.txt"), fixture: fixture)
        guard case .importBody(_, let guest) = put.action else { Issue.record("PUT not imported"); return }
        #expect(guest.subpath == "/r.txt")
        #expect(fixture.services.activity.counters.requests == 2)
    }

    @Test func routingMarksALaterReplyToBeAwaited() throws {
        let fixture = try HTTPFixture()
        let get = try Self.route(HTTPFixture.pending(.GET, "/later"), fixture: fixture)
        guard case .answerLater = get.action else { Issue.record("a Reply.later was not marked to be awaited"); return }
        #expect(get.record.source == "Greeter")
    }

    @Test func routingRefusesWhatNoPluginAnswers() throws {
        let fixture = try HTTPFixture()
        let cases: [(HTTPMethod, String, Int, String)] = [
            (.GET, "/nowhere", 404, "no plug-in answers this path"),
            (.DELETE, "/hello", 405, "method not allowed"),
            (.GET, "/hello?" + String(repeating: "q", count: 200), 414, "request target longer than 100 bytes"),
            (.GET, "/boom", 418, "boom asked for"),
        ]
        for (method, uri, status, reason) in cases {
            let request = PendingRequest(
                record: RequestRecord(head: HTTPFixture.head(method, uri), path: TokenCheckHandler.split(uri).path, started: 0), query: "")
            _ = try Self.route(request, fixture: fixture)
            guard case .answer(let reply) = request.action else { Issue.record("\(uri) not answered"); continue }
            #expect(reply.status == status, "\(method) \(uri)")
            #expect(request.record.reason == reason)
        }
        #expect(fixture.services.activity.counters.requests == 3, "the 414 is refused before it counts as activity")
    }

    @Test func anUploadAlreadyAnsweredIsAnsweredAgainWithoutItsHook() throws {
        let fixture = try HTTPFixture()
        fixture.services.answered.remember("id-1", .init(status: 201, contentType: "text/plain", body: Data("stored\n".utf8)))
        _ = fixture.services.answered.begin("id-2")
        func upload(_ id: String) throws -> PendingRequest {
            try Self.route(HTTPFixture.pending(.PUT, "/up/r.txt", [("X-Request-Id", id)]), fixture: fixture)
        }
        guard case .answer(let again) = try upload("id-1").action else { Issue.record("duplicate applied"); return }
        #expect(again.status == 201)
        #expect(again.text == "stored\n")
        #expect(again.headers.contains { $0 == ("X-Duplicate", "true") })
        guard case .answer(let busy) = try upload("id-2").action else { Issue.record("in-flight duplicate applied"); return }
        #expect(busy.status == 409)
        guard case .answer(let long) = try upload(String(repeating: "i", count: 201)).action else { Issue.record("long id accepted"); return }
        #expect(long.status == 400)
        let fresh = try upload("id-3")
        guard case .importBody = fresh.action else { Issue.record("new upload not imported"); return }
        #expect(fresh.record.requestID == "id-3")
    }

    // MARK: Reply writer

    static func writeReply(_ reply: Reply, keepAlive: Bool = true, method: HTTPMethod = .GET, fixture: HTTPFixture)
        throws -> (open: Bool, parts: [HTTPServerResponsePart])
    {
        let channel = EmbeddedChannel()
        let files = OpenFileCache(loop: channel.embeddedEventLoop)
        try channel.pipeline.syncOperations.addHandler(ReplyWriter(files: files, recorder: fixture.services.recorder))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        let request = PendingRequest(record: RequestRecord(head: HTTPFixture.head(method, "/r"), path: "/r", started: 0), query: "")
        request.answer(reply, reason: nil)
        request.keepAlive = keepAlive
        try channel.writeAndFlush(ResponseWrite.reply(request)).wait()
        var written: [IOData] = []
        while let data = try channel.readOutbound(as: IOData.self) { written.append(data) }
        let parts = try Self.responseParts(written)
        // The channel ends here, on the thread that made it, as `EmbeddedChannel` requires.
        let open = channel.isActive
        files.closeAll()
        _ = try channel.finish(acceptAlreadyClosed: true)
        return (open, parts)
    }

    /// The writer's bytes read back as a head, the body's bytes (and file region) and an end.
    static func responseParts(_ written: [IOData]) throws -> [HTTPServerResponsePart] {
        var bytes = ByteBuffer()
        var regions: [FileRegion] = []
        for data in written {
            switch data {
            case .byteBuffer(var buffer): bytes.writeBuffer(&buffer)
            case .fileRegion(let region): regions.append(region)
            }
        }
        let text = String(buffer: bytes)
        let end = try #require(text.range(of: "\r\n\r\n"), "no complete head in \(text.debugDescription)")
        var lines = text[..<end.lowerBound].components(separatedBy: "\r\n")
        let status = lines.removeFirst().split(separator: " ", maxSplits: 2)
        #expect(status.first == "HTTP/1.1")
        let code = try #require(Int(status[1]))
        var headers = HTTPHeaders()
        for line in lines {
            let colon = try #require(line.firstIndex(of: ":"))
            headers.add(name: String(line[..<colon]), value: line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        var parts: [HTTPServerResponsePart] = [.head(HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: code), headers: headers))]
        let body = String(text[end.upperBound...])
        if !body.isEmpty { parts.append(.body(.byteBuffer(ByteBuffer(string: body)))) }
        parts += regions.map { .body(.fileRegion($0)) }
        parts.append(.end(nil))
        return parts
    }

    @Test func aReplyGetsItsHeadersItsBodyAndItsJournalRecord() async throws {
        let fixture = try HTTPFixture()
        let (open, parts) = try Self.writeReply(.text(201, "made\n"), fixture: fixture)
        guard parts.count == 3, case .head(let head) = parts[0], case .body(.byteBuffer(let body)) = parts[1], case .end = parts[2] else {
            Issue.record("parts: \(parts)"); return
        }
        #expect(head.status == .created)
        #expect(head.headers["Server"] == ["SupportHost"])
        #expect(head.headers["Content-Length"] == ["5"])
        #expect(head.headers["Connection"].isEmpty)
        #expect(String(buffer: body) == "made\n")
        #expect(open, "kept alive")
        let record = try #require(try await fixture.records().first { $0.kind == "request" })
        #expect(record.field("status")?.intValue == 201)
        #expect(record.field("bytes_out")?.intValue == 5)
        #expect(record.field("path")?.stringValue == "/r")
    }

    @Test func aReplyNotKeptAliveSaysSoAndClosesTheConnection() throws {
        let fixture = try HTTPFixture()
        let (open, parts) = try Self.writeReply(.text(200, "x"), keepAlive: false, fixture: fixture)
        guard case .head(let head) = parts.first else { Issue.record("no head"); return }
        #expect(head.headers["Connection"] == ["close"])
        #expect(!open)
    }

    @Test func aSmallFileLeavesFromMemoryAndALargeOneBySendfile() throws {
        let fixture = try HTTPFixture()
        let directory = Fixtures.temporaryDirectory("reply-files")
        for (name, size) in [("small", 1024), ("large", 200_000)] {
            let url = directory.appendingPathComponent(name)
            try Data(repeating: 7, count: size).write(to: url)
            // Old enough for SmallFileBytes to keep it (a file changed in the last second is read anew).
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -10)], ofItemAtPath: url.path)
        }
        func slice(_ name: String) throws -> FileSlice {
            let path = directory.appendingPathComponent(name).path
            var info = stat()
            #expect(stat(path, &info) == 0)
            return FileSlice(path: path, offset: 0, length: Int64(info.st_size), identity: FileIdentity(info))
        }
        let small = try Self.writeReply(Reply(status: 200, body: .file(slice("small"))), fixture: fixture).parts
        guard case .body(.byteBuffer(let bytes)) = small[1] else { Issue.record("small file not from memory"); return }
        #expect(bytes.readableBytes == 1024)
        let large = try Self.writeReply(Reply(status: 200, body: .file(slice("large"))), fixture: fixture).parts
        guard case .body(.fileRegion(let region)) = large[1] else { Issue.record("large file not by sendfile"); return }
        #expect(region.readableBytes == 200_000)
        let gone = try Self.writeReply(
            Reply(status: 200, headers: [("ETag", "\"x\"")], body: .file(FileSlice(path: directory.path + "/none", offset: 0, length: 9))),
            fixture: fixture
        ).parts
        guard case .head(let head) = gone[0] else { Issue.record("no head"); return }
        #expect(head.status == .notFound)
        #expect(head.headers["ETag"].isEmpty)
        #expect(head.headers["Content-Length"] == ["0"])
    }

    // MARK: Timeouts

    /// The timeouts with the reply writer before them, which tells them when a reply is out.
    static func timeoutChannel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        let fixture = try HTTPFixture()
        try channel.pipeline.syncOperations.addHandlers([
            ReplyWriter(files: OpenFileCache(loop: channel.embeddedEventLoop, capacity: 0), recorder: fixture.services.recorder),
            RequestTimeouts(idleTimeout: .seconds(5)),
        ])
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    static func upload() -> RequestPart {
        .head(HTTPFixture.pending(.PUT, "/up/x", [("Content-Length", "9")]))
    }

    @Test func aConnectionThatSendsNoHeadIsClosedAfterTheIdleTimeout() throws {
        let channel = try Self.timeoutChannel()
        channel.embeddedEventLoop.advanceTime(by: .seconds(4))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive)
    }

    @Test func theWaitForTheNextHeadStartsWhenTheReplyIsOut() throws {
        let channel = try Self.timeoutChannel()
        channel.embeddedEventLoop.advanceTime(by: .seconds(4))
        let request = HTTPFixture.pending(.GET, "/")
        try channel.writeInbound(RequestPart.head(request))
        try channel.writeInbound(RequestPart.end)
        channel.embeddedEventLoop.advanceTime(by: .seconds(30))
        #expect(channel.isActive, "a request under way is not cut off by the head timer")
        request.answer(.text(200, "x"), reason: nil)
        try channel.writeOutbound(ResponseWrite.reply(request))
        channel.embeddedEventLoop.advanceTime(by: .seconds(4))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive)
    }

    @Test func aStalledRequestIsClosedUnlessReadsAreHeldBack() throws {
        let stalled = try Self.timeoutChannel()
        try stalled.writeInbound(Self.upload())
        stalled.read()  // reading, and nothing comes
        stalled.pipeline.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.read)
        #expect(!stalled.isActive)

        let heldBack = try Self.timeoutChannel()
        try heldBack.writeInbound(Self.upload())
        // No read passed since the last bytes: an import hook behind on its body holds them.
        heldBack.pipeline.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.read)
        #expect(heldBack.isActive)

        let between = try Self.timeoutChannel()
        between.read()
        between.pipeline.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.read)
        #expect(between.isActive, "between requests the head timer decides, not the stall")
    }

    // MARK: Admission

    @Test func theTokenProvesTheConnectionInTheBudget() throws {
        let fixture = try HTTPFixture()
        let channel = EmbeddedChannel()
        let admission = try #require(ConnectionAdmission.admit(channel, budget: fixture.services.connections))
        try channel.pipeline.syncOperations.addHandlers([
            admission, TokenCheckHandler(token: RunToken(value: HTTPFixture.token), clock: RunClock()),
        ])
        #expect(fixture.services.connections.unprovenCount == 1)
        try channel.writeInbound(HTTPServerRequestPart.head(HTTPFixture.head(.GET, "/t/\(HTTPFixture.token)/")))
        #expect(fixture.services.connections.unprovenCount == 0)
        #expect(fixture.services.connections.count == 1)
        #expect((try? channel.pipeline.syncOperations.context(handlerType: ConnectionAdmission.self)) == nil, "left the pipeline once proven")
        _ = try channel.finish()
        #expect(fixture.services.connections.count == 0, "released when closed")
    }

    /// Two connections through a budget of one; whether each is still open afterwards.
    static func admitTwo(_ budget: ConnectionBudget) throws -> (first: Bool, second: Bool) {
        let first = EmbeddedChannel(), second = EmbeddedChannel()
        for channel in [first, second] { try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait() }
        _ = budget.admit(first)
        _ = budget.admit(second)
        let open = (first.isActive, second.isActive)
        for channel in [first, second] { _ = try channel.finish(acceptAlreadyClosed: true) }
        return open
    }

    @Test func aFullBudgetDropsTheOldestConnectionWithoutTheTokenAndJournalsIt() async throws {
        let fixture = try HTTPFixture()
        let open = try Self.admitTwo(ConnectionBudget(limit: 1, journal: fixture.services.journal, probation: 0))
        #expect(!open.first && open.second)
        let record = try #require(try await fixture.records().first { $0.kind == "connection-dropped" })
        #expect(record.field("limit")?.intValue == 1)
    }

    @Test func aFullBudgetWithinTheProbationRefusesTheNewcomerAndJournalsIt() async throws {
        let fixture = try HTTPFixture()
        let open = try Self.admitTwo(ConnectionBudget(limit: 1, journal: fixture.services.journal))
        #expect(open.first && !open.second)
        let record = try #require(try await fixture.records().first { $0.kind == "connection-refused" })
        #expect(record.field("open")?.intValue == 1)
        #expect(record.field("limit")?.intValue == 1)
    }
}
