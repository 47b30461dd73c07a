import Foundation
import PluginAPI
import Testing

@testable import SupportHost

#if canImport(Glibc)
import Glibc
#endif

/// What NIO's pipelining handler and response encoder did, now done by `RequestSequencer` and
/// `ReplyWriter`, through a real server on a loopback port and a raw socket: requests sent at
/// once answered one by one in order, HEAD without a body, HTTP/1.0 keep-alive, a plug-in's
/// header with CR/LF refused, and a client that sends without reading held back.
struct RequestSequencerTests {
    /// `/echo/…` answers its own path; `/big/…` 16 KiB; `/split` a header with CR LF in its value;
    /// `/nothing` 204.
    final class Echo: Plugin {
        static let name = "Echo"
        static let summary = ""
        static let hooks: Set<Hook> = [.export]
        static let namespaceSummary = ""
        init(context: any HostContext) {}
        init() {}
        var namespaces: [Namespace] { [.prefix("/echo"), .prefix("/big"), .exact("/split"), .exact("/nothing")] }

        func exportData(_ request: GuestRequest) throws -> Reply {
            switch request.path {
            case "/split": return Reply(status: 200, headers: [("X-Note", "a\r\nX-Injected: yes")], body: .bytes(Data("split\n".utf8)))
            case "/nothing": return Reply(status: 204, headers: [("Content-Length", "5")], body: .bytes(Data("never".utf8)))
            default:
                if request.path.hasPrefix("/big") { return Reply(status: 200, body: .bytes(Data(repeating: 66, count: 16 << 10))) }
                return .text(200, request.path)
            }
        }

        func importData(_ request: GuestRequest, body: RequestBody) async throws -> Reply { .text(405, "no\n") }
    }

    struct Response {
        let statusLine: String
        let headers: [(name: String, value: String)]
        let body: String

        func header(_ name: String) -> String? {
            headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
        }
    }

    /// Runs `body` against a server on a loopback port serving `Echo` (no run token).
    static func withServer(_ body: (Int, HTTPFixture) async throws -> Void) async throws {
        let fixture = try HTTPFixture(token: nil, plugins: [Echo()])
        let server = try await HTTPServer.start(host: "127.0.0.1", port: 0, services: fixture.services)
        do {
            try await body(server.port, fixture)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    static func sendAll(_ fd: Int32, _ text: String) throws { try RawHTTP.sendAll(fd, Array(text.utf8)) }

    static func readToEnd(_ fd: Int32) -> Data { RawHTTP.readToEnd(fd) }

    /// Splits `raw` into responses by their `Content-Length`; `bodiless[i]` says the i-th has none
    /// whatever its head says (the answer to a HEAD).
    static func responses(_ raw: Data, bodiless: [Bool]) throws -> [Response] {
        var rest = raw[...]
        var found: [Response] = []
        while !rest.isEmpty {
            let end = try #require(rest.firstRange(of: Data("\r\n\r\n".utf8)), "an incomplete head: \(String(decoding: rest, as: UTF8.self))")
            var lines = String(decoding: rest[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
            let statusLine = lines.removeFirst()
            let headers = lines.map { line -> (name: String, value: String) in
                let colon = line.firstIndex(of: ":") ?? line.endIndex
                return (String(line[..<colon]), line[colon...].dropFirst().trimmingCharacters(in: .whitespaces))
            }
            let noBody = found.count < bodiless.count && bodiless[found.count]
            let length = noBody ? 0 : Int(headers.first { $0.name.lowercased() == "content-length" }?.value ?? "0") ?? 0
            let bodyEnd = end.upperBound + length
            #expect(bodyEnd <= rest.endIndex, "a body cut short")
            found.append(Response(statusLine: statusLine, headers: headers, body: String(decoding: rest[end.upperBound..<min(bodyEnd, rest.endIndex)], as: UTF8.self)))
            rest = rest[min(bodyEnd, rest.endIndex)...]
        }
        return found
    }

    @Test func requestsSentAtOnceAreAnsweredInOrderOverOneConnection() async throws {
        try await Self.withServer { port, fixture in
            let fd = try RawHTTP.connect(port: port, receiveTimeout: timeval(tv_sec: 30, tv_usec: 0))
            defer { close(fd) }
            try Self.sendAll(fd, (1...20).map { "GET /echo/\($0) HTTP/1.1\r\nHost: x\r\n\r\n" }.joined()
                + "HEAD /echo/head HTTP/1.1\r\nHost: x\r\n\r\n" + "GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n"
                + "GET /echo/last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let replies = try Self.responses(Self.readToEnd(fd), bodiless: Array(repeating: false, count: 20) + [true])
            try #require(replies.count == 23, "\(replies.map(\.statusLine))")
            #expect(replies[0..<20].map(\.body) == (1...20).map { "/echo/\($0)" })
            #expect(replies.allSatisfy { $0.header("Server") == "SupportHost" })
            let head = replies[20]
            #expect(head.statusLine == "HTTP/1.1 200 OK")
            #expect(head.header("Content-Length") == "\("/echo/head".utf8.count)", "a HEAD says what a GET would get")
            #expect(head.body.isEmpty)
            #expect(replies[21].statusLine == "HTTP/1.1 204 No Content")
            #expect(replies[21].header("Content-Length") == nil && replies[21].body.isEmpty, "a 204 has no body and no length")
            #expect(replies[22].body == "/echo/last")
            #expect(replies[22].header("Connection") == "close")
            #expect(replies[0..<22].allSatisfy { $0.header("Connection") == nil })
            let records = try await fixture.records().filter { $0.kind == "request" }
            #expect(records.map { $0.field("path")?.stringValue } == (1...20).map { "/echo/\($0)" } + ["/echo/head", "/nothing", "/echo/last"])
        }
    }

    @Test func aHalfCloseAfterPipelinedRequestsWaitsForTheirReplies() async throws {
        try await Self.withServer { port, _ in
            let fd = try RawHTTP.connect(port: port, receiveTimeout: timeval(tv_sec: 30, tv_usec: 0))
            defer { close(fd) }
            try Self.sendAll(fd, (1...5).map { "GET /echo/\($0) HTTP/1.1\r\nHost: x\r\n\r\n" }.joined())
            shutdown(fd, Int32(SHUT_WR))
            let replies = try Self.responses(Self.readToEnd(fd), bodiless: [])
            #expect(replies.map(\.body) == (1...5).map { "/echo/\($0)" }, "every request sent before the half-close answered, then the close")
        }
    }

    @Test func garbageAfterAGoodRequestIsAnswered400AfterItsReply() async throws {
        try await Self.withServer { port, fixture in
            let fd = try RawHTTP.connect(port: port, receiveTimeout: timeval(tv_sec: 30, tv_usec: 0))
            defer { close(fd) }
            try Self.sendAll(fd, "GET /echo/good HTTP/1.1\r\nHost: x\r\n\r\n" + "GET /echo/bad HTTP/1.1\r\nBad Header\r\n\r\n")
            let replies = try Self.responses(Self.readToEnd(fd), bodiless: [])
            try #require(replies.count == 2, "\(replies.map(\.statusLine))")
            #expect(replies[0].body == "/echo/good")
            #expect(replies[1].statusLine == "HTTP/1.1 400 Bad Request")
            #expect(replies[1].header("Connection") == "close")
            let records = try await fixture.records().filter { $0.kind == "request" }
            #expect(records.map { $0.field("status")?.intValue } == [200, 400])
        }
    }

    @Test func anHTTP10ClientIsToldTheConnectionStaysOnlyWhenItAskedForIt() async throws {
        try await Self.withServer { port, _ in
            let fd = try RawHTTP.connect(port: port, receiveTimeout: timeval(tv_sec: 30, tv_usec: 0))
            defer { close(fd) }
            try Self.sendAll(fd, "GET /echo/a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" + "GET /echo/b HTTP/1.0\r\n\r\n")
            let replies = try Self.responses(Self.readToEnd(fd), bodiless: [])
            try #require(replies.count == 2)
            #expect(replies[0].statusLine == "HTTP/1.0 200 OK")
            #expect(replies[0].header("Connection") == "keep-alive")
            #expect(replies[0].body == "/echo/a")
            #expect(replies[1].header("Connection") == "close", "and the server closed after it: readToEnd returned")
            #expect(replies[1].body == "/echo/b")
        }
    }

    @Test func aPluginHeaderWithCRLFIsRefusedNeverSentSplit() async throws {
        try await Self.withServer { port, fixture in
            let fd = try RawHTTP.connect(port: port, receiveTimeout: timeval(tv_sec: 30, tv_usec: 0))
            defer { close(fd) }
            try Self.sendAll(fd, "GET /split HTTP/1.1\r\nHost: x\r\n\r\n" + "GET /echo/after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let raw = Self.readToEnd(fd)
            #expect(!String(decoding: raw, as: UTF8.self).contains("X-Injected"))
            let replies = try Self.responses(raw, bodiless: [])
            try #require(replies.count == 2)
            #expect(replies[0].statusLine == "HTTP/1.1 500 Internal Server Error")
            #expect(replies[0].header("X-Note") == nil)
            #expect(replies[1].body == "/echo/after", "the connection goes on")
            let record = try #require(try await fixture.records().first { $0.kind == "request" && $0.field("path")?.stringValue == "/split" })
            #expect(record.field("status")?.intValue == 500)
            #expect(record.field("reason")?.stringValue?.contains("X-Note") == true)
        }
    }

    /// A client that sends requests and never reads their replies fills its socket buffers and
    /// must wait: the host stops reading once the replies it has written back up, rather than
    /// reading on and holding every reply in memory. Without back-pressure the loop below would
    /// send all of `limit` (the host reading as fast as it can answer).
    @Test func aClientThatSendsWithoutReadingIsHeldBack() async throws {
        try await Self.withServer { port, _ in
            let fd = try RawHTTP.connect(port: port, receiveTimeout: timeval(tv_sec: 30, tv_usec: 0))
            defer { close(fd) }
            let flags = fcntl(fd, F_GETFL)
            _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
            let request = Array((0..<64).map { "GET /big/\($0) HTTP/1.1\r\nHost: x\r\n\r\n" }.joined().utf8)
            let limit = 64 << 20  // of requests: about 1.7 million, each answered with 16 KiB
            var sent = 0
            var heldBack = false
            while sent < limit, !heldBack {
                let written = request.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                if written > 0 {
                    // A partial write: the rest of the batch, so that requests stay whole.
                    var done = written
                    while done < request.count {
                        var poll = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                        guard Glibc.poll(&poll, 1, 5000) == 1 else {
                            heldBack = true
                            break
                        }
                        let more = request[done...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                        if more > 0 { done += more }
                    }
                    sent += done
                } else if errno == EAGAIN {
                    // Nothing taken for 5 s: the host has stopped reading.
                    var poll = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                    if Glibc.poll(&poll, 1, 5000) == 0 { heldBack = true }
                } else {
                    Issue.record("write failed: \(errno)")
                    return
                }
            }
            #expect(heldBack, "sent \(sent) bytes of requests without reading a reply, and the host read them all")
            // The replies that were written are in order and whole.
            _ = fcntl(fd, F_SETFL, flags)
            var raw = Data()
            var buffer = [UInt8](repeating: 0, count: 65536)
            while raw.count < 3 * (16 << 10 + 200) {
                let count = read(fd, &buffer, buffer.count)
                if count <= 0 { break }
                raw.append(contentsOf: buffer[0..<count])
            }
            #expect(String(decoding: raw.prefix(15), as: UTF8.self) == "HTTP/1.1 200 OK")
            // Another connection is served meanwhile.
            let other = try RawHTTP.send(port: port, "GET", "/echo/other")
            #expect(String(decoding: other.body, as: UTF8.self) == "/echo/other")
        }
    }
}
