import Foundation
import PluginAPI
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A local process without the token floods the host with connections — some held idle, some
/// trickling header lines that never end — and the guest is still served at once: connections
/// that never presented the token give way to new ones after their probation.
struct ConnectionFloodTests {
    /// Open TCP connections to the host, never sending a whole request.
    final class Flood: Sendable {
        let idle: [Int32]
        let trickling: [Int32]

        init(port: Int, idle: Int, trickling: Int) {
            var idleFDs: [Int32] = [], tricklingFDs: [Int32] = []
            // Interleaved, so that both kinds hold places in the host's budget.
            for index in 0..<(idle + trickling) {
                guard let fd = Self.connect(port: port) else { continue }
                if index % 2 == 1 && tricklingFDs.count < trickling || idleFDs.count >= idle {
                    Self.send(fd, "GET /cpan/f.txt HTTP/1.1\r\nHost: flood\r\n")
                    tricklingFDs.append(fd)
                } else {
                    idleFDs.append(fd)
                }
            }
            self.idle = idleFDs
            self.trickling = tricklingFDs
        }

        /// One more header line on every trickling connection (a closed one just fails).
        func trickle() {
            for fd in trickling { Self.send(fd, "X-Slow: 1\r\n") }
        }

        func close() {
            for fd in idle + trickling { Glibc.close(fd) }
        }

        static func connect(port: Int) -> Int32? {
            try? RawHTTP.connect(port: port, receiveTimeout: timeval(tv_sec: 30, tv_usec: 0))
        }

        /// MSG_NOSIGNAL: a connection the host closed must not end the test process with SIGPIPE.
        static func send(_ fd: Int32, _ text: String) {
            _ = Array(text.utf8).withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }
    }

    @Test func theGuestIsServedAtOnceThroughAFloodOfConnectionsWithoutTheToken() async throws {
        let root = try MirrorTests.root(["f.txt": Data("mirror file\n".utf8)])
        // The default budget (64 connections) and idle timeout (30 s): without the fix, the
        // flood holds every place until its connections time out, long past the deadline below.
        let served = try await MirrorTests.ServingHost.start(["/cpan": root])
        let flood = Flood(port: served.port, idle: 300, trickling: 100)
        #expect(flood.idle.count + flood.trickling.count >= 390, "the flood could not connect")
        let trickler = Task {
            while !Task.isCancelled {
                flood.trickle()
                try? await Task.sleep(for: .milliseconds(200))
            }
        }

        // The guest asks until it is answered; a refused connection is retried at once.
        let start = ContinuousClock.now
        var attempts = 0
        var answer: RawHTTP.Response?
        while answer == nil && ContinuousClock.now - start < .seconds(10) {
            attempts += 1
            answer = try? served.get("/cpan/f.txt")
            if answer == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        let waited = ContinuousClock.now - start
        trickler.cancel()
        flood.close()
        let report = try await served.finish()

        #expect(answer?.status == 200, "the guest was not served within 10 s (\(attempts) attempts)")
        #expect(answer?.body == Data("mirror file\n".utf8))
        let journal = RunFiles(url: served.runDir).journalText
        let refused = journal.components(separatedBy: #""kind":"connection-refused""#).count - 1
        let dropped = journal.components(separatedBy: #""kind":"connection-dropped""#).count - 1
        // Every flood connection past the 64 places was refused or made an older one give way
        // (which, depends on how fast the flood connected); the guest's own made one give way.
        let flooded = flood.idle.count + flood.trickling.count
        #expect(refused + dropped >= flooded - 64, "\(refused) refused, \(dropped) dropped of \(flooded)")
        #expect(dropped >= 1, "no connection without the token gave way to the guest's")
        #expect(report["requests"]?["by_status"]?["200"] == 1)
        Fixtures.note("flood: \(flood.idle.count) idle + \(flood.trickling.count) trickling; guest served after \(waited) in \(attempts) attempts; \(refused) refused, \(dropped) dropped")
    }
}
