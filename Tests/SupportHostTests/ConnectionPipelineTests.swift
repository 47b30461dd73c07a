import Foundation
import NIOCore
import NIOEmbedded
import NIOHTTP1
import PluginAPI
import Testing

@testable import SupportHost

/// A whole connection's handlers, as the server builds them, fed raw bytes without a socket.
struct ConnectionPipelineTests {
    static let prefix = "/t/\(HTTPFixture.token)"

    static func connection(_ fixture: HTTPFixture) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        let admission = try #require(ConnectionAdmission.admit(channel, budget: fixture.services.connections))
        try channel.pipeline.syncOperations.addHandler(admission)
        try ConnectionPipeline.configure(channel.pipeline.syncOperations, services: fixture.services, files: OpenFileCache(loop: channel.embeddedEventLoop))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    static func output(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while let data = try channel.readOutbound(as: IOData.self) {
            if case .byteBuffer(let buffer) = data { text += String(buffer: buffer) }
        }
        return text
    }

    static func statuses(_ text: String) -> [String] {
        // A status line follows the previous reply's body directly.
        text.components(separatedBy: "HTTP/1.1 ").dropFirst().map { String($0.prefix(3)) }
    }

    /// Feeds `bytes` to a new connection; what it answered and whether it is still open. The
    /// channel lives and dies here, on one thread, as `EmbeddedChannel` requires.
    static func exchange(_ fixture: HTTPFixture, _ bytes: String) throws -> (text: String, open: Bool) {
        let channel = try connection(fixture)
        try channel.writeInbound(ByteBuffer(string: bytes))
        let text = try output(channel)
        let open = channel.isActive
        _ = try channel.finish(acceptAlreadyClosed: true)
        return (text, open)
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        let fixture = try HTTPFixture()
        let (text, open) = try Self.exchange(fixture,
            "GET \(Self.prefix)/hello HTTP/1.1\r\nHost: x\r\n\r\n" + "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
            + "GET \(Self.prefix)/nowhere HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(Self.statuses(text) == ["200", "403", "404"])
        #expect(text.contains("hello\n"))
        #expect(open)
        let records = try await fixture.records().filter { $0.kind == "request" }
        #expect(records.map { $0.field("status")?.intValue } == [200, 403, 404])
        #expect(records.map { $0.source } == ["Greeter", "host", "host"])
    }

    @Test func aMalformedRequestIsAnswered400JournaledAndClosed() async throws {
        let fixture = try HTTPFixture()
        let (text, open) = try Self.exchange(fixture, "GET /hello HTTP/1.1\r\nBad Header\r\n\r\n")
        #expect(Self.statuses(text) == ["400"])
        #expect(text.contains("Connection: close"))
        #expect(!open)
        let record = try #require(try await fixture.records().first { $0.kind == "request" })
        #expect(record.field("reason")?.stringValue?.hasPrefix("malformed request") == true)
        #expect(record.field("method")?.stringValue == "")
    }

    /// Imports run in a task off the loop, so this uses NIO's thread-safe testing channel.
    static func asyncConnection(_ fixture: HTTPFixture) async throws -> NIOAsyncTestingChannel {
        let channel = NIOAsyncTestingChannel()
        let services = fixture.services
        try await channel.testingEventLoop.executeInContext {
            let files = OpenFileCache(loop: channel.testingEventLoop)
            try ConnectionPipeline.configure(channel.pipeline.syncOperations, services: services, files: files)
        }
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1))
        return channel
    }

    static func reply(_ channel: NIOAsyncTestingChannel) async throws -> String {
        var text = ""
        while !text.contains("\r\n\r\n") || !Self.bodyComplete(text) {
            let data = try await channel.waitForOutboundWrite(as: IOData.self)
            if case .byteBuffer(let buffer) = data { text += String(buffer: buffer) }
        }
        return text
    }

    private static func bodyComplete(_ text: String) -> Bool {
        guard let end = text.range(of: "\r\n\r\n"),
            let line = text[..<end.lowerBound].components(separatedBy: "\r\n").first(where: { $0.lowercased().hasPrefix("content-length:") }),
            let length = Int(line.dropFirst(15).trimmingCharacters(in: .whitespaces))
        else { return true }
        return text[end.upperBound...].utf8.count >= length
    }

    @Test func anUploadStreamsToItsHookWhichAnswers() async throws {
        let fixture = try HTTPFixture()
        let channel = try await Self.asyncConnection(fixture)
        try await channel.writeInbound(ByteBuffer(string: "PUT \(Self.prefix)/up/r.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello"))
        try await channel.writeInbound(ByteBuffer(string: " world"))
        let text = try await Self.reply(channel)
        #expect(Self.statuses(text) == ["201"])
        #expect(text.hasSuffix("\r\n\r\n11\n"))
        #expect(channel.isActive)
        _ = try await channel.finish(acceptAlreadyClosed: true)
    }

    @Test func aHookThatAnswersBeforeTheBodyEndsClosesTheConnectionAfterItsReply() async throws {
        let fixture = try HTTPFixture()
        let channel = try await Self.asyncConnection(fixture)
        try await channel.writeInbound(ByteBuffer(string: "PUT \(Self.prefix)/early/r.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc"))
        let text = try await Self.reply(channel)
        #expect(Self.statuses(text) == ["413"])
        #expect(text.contains("Connection: close"))
        try await channel.closeFuture.get()
        let record = try #require(try await fixture.records().first { $0.kind == "request" })
        #expect(record.field("status")?.intValue == 413)
        #expect(record.field("bytes_in")?.intValue == 3)
    }

    /// Reads what the connection writes until `done` holds (a bounded number of writes).
    static func replies(_ channel: NIOAsyncTestingChannel, until done: (String) -> Bool) async throws -> String {
        var text = ""
        for _ in 0..<100 where !done(text) {
            let data = try await channel.waitForOutboundWrite(as: IOData.self)
            if case .byteBuffer(let buffer) = data { text += String(buffer: buffer) }
        }
        return text
    }

    @Test func aLaterReplyKeepsThePipelinedRequestBehindItWaitingAndIsJournaled() async throws {
        let fixture = try HTTPFixture()
        let channel = try await Self.asyncConnection(fixture)
        try await channel.writeInbound(ByteBuffer(string:
            "GET \(Self.prefix)/later HTTP/1.1\r\nHost: x\r\n\r\n" + "GET \(Self.prefix)/hello HTTP/1.1\r\nHost: x\r\n\r\n"))
        // The export hook has returned; its closure waits off the loop, and nothing is written.
        for _ in 0..<2000 where !fixture.greeter.laterGate.isWaitedFor { try await Task.sleep(for: .milliseconds(10)) }
        #expect(fixture.greeter.laterGate.isWaitedFor)
        #expect(try await channel.readOutbound(as: IOData.self) == nil, "the hello behind the later reply waits its turn")
        fixture.greeter.laterGate.open()
        let text = try await Self.replies(channel) { $0.contains("hello\n") }
        #expect(Self.statuses(text) == ["200", "200"])
        let later = try #require(text.range(of: "later\n"))
        let hello = try #require(text.range(of: "hello\n"))
        #expect(later.upperBound <= hello.lowerBound, "answered in the order asked")
        #expect(channel.isActive)
        _ = try await channel.finish(acceptAlreadyClosed: true)
        let records = try await fixture.records().filter { $0.kind == "request" }
        #expect(records.map { $0.field("path")?.stringValue } == ["/later", "/hello"])
        #expect(records.map { $0.field("status")?.intValue } == [200, 200])
        #expect(records.first?.source == "Greeter")
    }

    /// A half-close and a parse error that come while requests are held wait behind them
    /// (`RequestSequencer`): the requests before them are answered first.
    @Test func aHalfCloseOrGarbageBehindALaterReplyWaitsItsTurn() async throws {
        for tail in ["", "GARBAGE\r\n\r\n"] {
            let fixture = try HTTPFixture()
            let channel = try await Self.asyncConnection(fixture)
            try await channel.writeInbound(ByteBuffer(string:
                "GET \(Self.prefix)/later HTTP/1.1\r\nHost: x\r\n\r\n" + "GET \(Self.prefix)/hello HTTP/1.1\r\nHost: x\r\n\r\n" + tail))
            if tail.isEmpty { channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed) }
            for _ in 0..<2000 where !fixture.greeter.laterGate.isWaitedFor { try await Task.sleep(for: .milliseconds(10)) }
            #expect(channel.isActive, "nothing ends the connection while the later reply is owed")
            fixture.greeter.laterGate.open()
            let text = try await Self.replies(channel) { tail.isEmpty ? $0.contains("hello\n") : $0.contains("HTTP/1.1 400") }
            #expect(Self.statuses(text) == (tail.isEmpty ? ["200", "200"] : ["200", "200", "400"]))
            for _ in 0..<2000 where channel.isActive { try await Task.sleep(for: .milliseconds(10)) }
            #expect(!channel.isActive, "closed after the last reply")
            _ = try await channel.finish(acceptAlreadyClosed: true)
        }
    }

    @Test func aLaterReplyThatThrowsIsAnsweredWithItsStatusAndReason() async throws {
        let fixture = try HTTPFixture()
        let channel = try await Self.asyncConnection(fixture)
        try await channel.writeInbound(ByteBuffer(string: "GET \(Self.prefix)/later-boom HTTP/1.1\r\nHost: x\r\n\r\n"))
        let text = try await Self.reply(channel)
        #expect(Self.statuses(text) == ["409"])
        #expect(text.contains("later boom"))
        #expect(channel.isActive)
        _ = try await channel.finish(acceptAlreadyClosed: true)
        let record = try #require(try await fixture.records().first { $0.kind == "request" })
        #expect(record.field("status")?.intValue == 409)
        #expect(record.field("reason")?.stringValue?.contains("later boom") == true)
    }
}
