import Foundation
import PluginAPI
import Testing

/// Only the guest gets in, limits hold, and a misbehaving guest is caught early.
@Suite(.enabled(if: Needs.curl && Needs.python3, Needs.curlHint))
struct SecurityTests {
    static let mirror: URL = {
        let url = Fixtures.temporaryDirectory("mirror")
        try? Data("mirror file\n".utf8).write(to: url.appendingPathComponent("f.txt"))
        return url
    }()

    @Test func aClientWithoutTheTokenTouchesNothingAndTheGuestWithItDoes() async throws {
        let runDir = Fixtures.runDirectory("token")
        let guest = Fixtures.guestScript(#"""
            bare="http://127.0.0.1:$SUPPORT_HOST_PORT"
            code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
            test "$(code "$bare/")" = 403
            test "$(code -T /etc/hostname "$bare/r.txt")" = 403
            test "$(code "$bare/cpan/f.txt")" = 403
            test "$(code -H 'Authorization: Bearer 0123456789abcdef0123456789abcdef' "$bare/")" = 403
            test "$(code "$bare/t/0123456789abcdef0123456789abcdef/")" = 403
            test "$(code -H "Authorization: Bearer $SUPPORT_HOST_TOKEN" "$bare/cpan/f.txt")" = 200
            test "$(code "$SUPPORT_HOST_URL/cpan/f.txt")" = 200
            test "$(code -H "Authorization: Bearer $SUPPORT_HOST_TOKEN" "$bare/")" = 200
            echo hello | curl -fsS -T - "$SUPPORT_HOST_URL/r.txt" >/dev/null
            """#)
        let host = try await HostProcess.run([
            "run", "--optional-result", "/r.txt", "--mirror", "/cpan=\(Self.mirror.path)", "--run-dir", runDir.path, "--", guest,
        ])
        #expect(host.status == 0, "\(host.stderr)\n\(RunFiles(url: runDir).console)")
        let report = try RunFiles(url: runDir).report
        #expect(report["requests"]?["by_status"]?["403"] == 5)
        #expect(report["pings"] == 1, "refused pings do not count")
        #expect(report["results"]?.arrayValue?.count == 1)
        #expect(RunFiles(url: runDir).result("r.txt") == Data("hello\n".utf8))
        #expect(RunFiles(url: runDir).journalText.contains("no valid run token"))
    }

    @Test func withTokenNoneAPitaStyleGuestUsesRootPaths() async throws {
        let runDir = Fixtures.runDirectory("notoken")
        let guest = Fixtures.guestScript(#"""
            test -z "${SUPPORT_HOST_TOKEN:-}"
            curl -fsS "http://$SUPPORT_HOST_HOST:$SUPPORT_HOST_PORT/" >/dev/null
            echo result | curl -fsS -T - "http://$SUPPORT_HOST_HOST:$SUPPORT_HOST_PORT/1" >/dev/null
            """#)
        let host = try await HostProcess.run(["run", "--token", "none", "--result", "/1", "--run-dir", runDir.path, "--", guest])
        #expect(host.status == 0, "\(host.stderr)\n\(RunFiles(url: runDir).console)")
        #expect(host.stdout.contains("no token"))
    }

    @Test func theTokenIsNeverWrittenDown() async throws {
        let runDir = Fixtures.runDirectory("secret")
        let tokenFile = Fixtures.temporaryDirectory("token").appendingPathComponent("token")
        let guest = Fixtures.guestScript(#"""
            printf %s "$SUPPORT_HOST_TOKEN" > "$2"
            curl -fsS "$1/" >/dev/null
            curl -s -o /dev/null "$1/no/such/path"
            curl -s -o /dev/null "http://127.0.0.1:$SUPPORT_HOST_PORT/t/$SUPPORT_HOST_TOKEN-wrong/"
            echo done
            """#)
        let host = try await HostProcess.run(["run", "--verbose", "--run-dir", runDir.path, "--", guest, "{url}", tokenFile.path])
        #expect(host.status == 0, "\(host.stderr)")
        let token = try String(contentsOf: tokenFile, encoding: .utf8)
        #expect(token.count == 32)
        let files = RunFiles(url: runDir)
        let report = String(decoding: try Data(contentsOf: runDir.appendingPathComponent("report.json")), as: UTF8.self)
        for (name, text) in [("report.json", report), ("journal.log", files.journalText), ("console.log", files.console), ("stdout", host.stdout)] {
            #expect(!text.contains(token), "the token leaked into \(name)")
        }
        #expect(files.journalText.contains("{token}"), "the guest's argv is recorded with the token redacted")
    }

    @Test func aPanicLineEndsTheRunAsConsoleFail() async throws {
        let runDir = Fixtures.runDirectory("panic")
        let guest = Fixtures.guestScript(#"""
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            echo "[    1.234] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100" >&2
            exec sleep 300
            """#)
        let host = try await HostProcess.run(["run", "--fail-on-panic", "--activity-timeout", "120", "--run-dir", runDir.path, "--", guest])
        #expect(host.status == 24, "\(host.stderr)")
        let report = try RunFiles(url: runDir).report
        #expect(report["outcome"] == "console-fail")
        #expect(report["stop"]?["cause"] == "console-fail")
        #expect(report["line"]?.stringValue?.contains("Attempted to kill init!") == true)
    }

    @Test func aCustomFailOnPatternEndsTheRun() async throws {
        let runDir = Fixtures.runDirectory("failon")
        let guest = Fixtures.guestScript(#"""
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            echo "ok 1 - fine"; echo "not ok 2 - broken"
            exec sleep 300
            """#)
        let host = try await HostProcess.run(["run", "--fail-on", "^not ok [0-9]+", "--run-dir", runDir.path, "--", guest])
        #expect(host.status == 24, "\(host.stderr)")
        #expect(host.stdout.contains(#"console fail: pattern "^not ok [0-9]+" matched "not ok 2 - broken""#))
    }

    static func rebootGuest() -> String {
        Fixtures.guestScript(#"""
            curl -fsS -H 'X-Boot-Id: 1111' "$SUPPORT_HOST_URL/" >/dev/null
            curl -fsS -H 'X-Boot-Id: 1111' "$SUPPORT_HOST_URL/" >/dev/null
            curl -fsS -H 'X-Boot-Id: 2222' "$SUPPORT_HOST_URL/" >/dev/null
            sleep 1
            """#)
    }

    @Test func aSecondBootIdIsARebootAndEndsTheRunByDefault() async throws {
        let runDir = Fixtures.runDirectory("reboot0")
        let host = try await HostProcess.run(["run", "--run-dir", runDir.path, "--", Self.rebootGuest()])
        #expect(host.status == 25, "\(host.stderr)")
        #expect(try RunFiles(url: runDir).report["outcome"] == "reboot-loop")
    }

    @Test func oneRebootIsAllowedWithMaxRebootsOne() async throws {
        let runDir = Fixtures.runDirectory("reboot1")
        let host = try await HostProcess.run(["run", "--max-reboots", "1", "--run-dir", runDir.path, "--", Self.rebootGuest()])
        #expect(host.status == 0, "\(host.stderr)")
        #expect(RunFiles(url: runDir).journalText.components(separatedBy: #""kind":"reboot""#).count == 2)
    }

    @Test func repeatedPingsWithoutABootIdAreNotReboots() async throws {
        let runDir = Fixtures.runDirectory("pings")
        let guest = Fixtures.guestScript(#"for i in 1 2 3 4; do curl -fsS "$SUPPORT_HOST_URL/" >/dev/null; done"#)
        let host = try await HostProcess.run(["run", "--run-dir", runDir.path, "--", guest])
        #expect(host.status == 0, "\(host.stderr)")
        #expect(try RunFiles(url: runDir).report["pings"] == 4)
        #expect(!RunFiles(url: runDir).journalText.contains(#""kind":"reboot""#))
    }

    @Test func aRebootPatternSeenTwiceOnTheConsoleIsAReboot() async throws {
        let runDir = Fixtures.runDirectory("banner")
        let guest = Fixtures.guestScript(#"""
            echo "Linux version 6.1.0-28-amd64"; curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            echo "Linux version 6.1.0-28-amd64"; exec sleep 300
            """#)
        let host = try await HostProcess.run(["run", "--reboot-pattern", "^Linux version ", "--run-dir", runDir.path, "--", guest])
        #expect(host.status == 25, "\(host.stderr)")
        #expect(try RunFiles(url: runDir).report["stop"]?["cause"] == "reboot-loop")
    }

    @Test func twoHundredConnectionsAtOnceDoNotBreakTheRun() async throws {
        let runDir = Fixtures.runDirectory("flood")
        // The flood holds 200 connections open; the host refuses those past the limit and closes
        // idle ones after --idle-timeout, so the guest's own requests get through.
        let guest = Fixtures.guestScript(#"""
            python3 -c '
            import socket, sys, time
            held = []
            for _ in range(200):
                try: held.append(socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5))
                except OSError: pass
            time.sleep(3)
            ' "$SUPPORT_HOST_PORT" &
            sleep 0.5
            curl -fsS --retry 20 --retry-all-errors --retry-delay 1 "$SUPPORT_HOST_URL/" >/dev/null
            echo ok | curl -fsS --retry 20 --retry-all-errors --retry-delay 1 -T - "$SUPPORT_HOST_URL/r.txt" >/dev/null
            wait
            """#)
        let host = try await HostProcess.run([
            "run", "--result", "/r.txt", "--idle-timeout", "1", "--run-dir", runDir.path, "--", guest,
        ])
        #expect(host.status == 0, "\(host.stderr)\n\(RunFiles(url: runDir).console)")
        let refused = RunFiles(url: runDir).journalText.components(separatedBy: #""kind":"connection-refused""#).count - 1
        #expect(refused >= 100, "\(refused) refused")
    }

    @Test func anOversizedHeaderGets431AndTheRunGoesOn() async throws {
        let runDir = Fixtures.runDirectory("header")
        let guest = Fixtures.guestScript(#"""
            big=$(head -c 20000 /dev/zero | tr '\0' a)
            test "$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $big" "$SUPPORT_HOST_URL/")" = 431
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            """#)
        let host = try await HostProcess.run(["run", "--run-dir", runDir.path, "--", guest])
        #expect(host.status == 0, "\(host.stderr)\n\(RunFiles(url: runDir).console)")
        #expect(RunFiles(url: runDir).journalText.contains(#""status":431"#))
    }

    @Test func aSlowlorisClientDoesNotExtendTheRun() async throws {
        let runDir = Fixtures.runDirectory("slowloris")
        let guest = Fixtures.guestScript(#"""
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            python3 -c '
            import socket, sys, time
            s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
            s.sendall(("GET /t/%s/ HTTP/1.1\r\nHost: x\r\n" % sys.argv[2]).encode())
            for _ in range(600):
                try: s.sendall(b"X-Slow: 1\r\n")
                except OSError: break
                time.sleep(0.1)
            ' "$SUPPORT_HOST_PORT" "$SUPPORT_HOST_TOKEN"
            exec sleep 300
            """#)
        let host = try await HostProcess.run(["run", "--activity-timeout", "2", "--idle-timeout", "3", "--run-dir", runDir.path, "--", guest])
        #expect(host.status == 21, "\(host.stderr)")
        #expect(try RunFiles(url: runDir).report["outcome"] == "activity-timeout")
    }

    /// A request that announces a body and never sends it is cut off after the idle timeout,
    /// whether it has the token (a GET answered at its end) or not (refused at its end).
    @Test func aRequestWhoseBodyNeverComesIsCutOff() async throws {
        let runDir = Fixtures.runDirectory("nobody")
        let guest = Fixtures.guestScript(#"""
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            python3 -c '
            import socket, sys, time
            def stalled(head):
                s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
                s.sendall(head.encode())
                s.settimeout(15)
                try:
                    while s.recv(4096): pass
                    return "closed"
                except socket.timeout:
                    return "open"
            token = sys.argv[2]
            print(stalled("GET /t/%s/ HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" % token),
                  stalled("GET /anything HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"))
            ' "$SUPPORT_HOST_PORT" "$SUPPORT_HOST_TOKEN" > "$1/verdict"
            curl -fsS -T "$1/verdict" "$SUPPORT_HOST_URL/verdict.txt" >/dev/null
            """#)
        let work = Fixtures.temporaryDirectory("nobody-work")
        let host = try await HostProcess.run([
            "run", "--result", "/verdict.txt", "--idle-timeout", "1", "--run-dir", runDir.path, "--", guest, work.path,
        ])
        #expect(host.status == 0, "\(host.stderr)")
        #expect(String(decoding: RunFiles(url: runDir).result("verdict.txt") ?? Data(), as: UTF8.self) == "closed closed\n")
    }

    /// The idle timeout is for waiting on the next request, not for a reply still being sent:
    /// a slow download on a keep-alive connection completes.
    @Test func aDownloadLongerThanTheIdleTimeoutCompletes() async throws {
        let runDir = Fixtures.runDirectory("slowread")
        let mirror = Fixtures.temporaryDirectory("slowread-mirror")
        // Larger than what the loopback socket buffers hold, so the reply is still being sent
        // for seconds after it was queued.
        try Data(count: 24_000_000).write(to: mirror.appendingPathComponent("big.bin"))
        let guest = Fixtures.guestScript(#"""
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            if curl -fsS --limit-rate 6M -o /dev/null "$SUPPORT_HOST_URL/cpan/big.bin"; then echo complete; else echo "cut off ($?)"; fi > "$1/verdict"
            curl -fsS -T "$1/verdict" "$SUPPORT_HOST_URL/verdict.txt" >/dev/null
            """#)
        let work = Fixtures.temporaryDirectory("slowread-work")
        let host = try await HostProcess.run([
            "run", "--result", "/verdict.txt", "--idle-timeout", "1", "--mirror", "/cpan=\(mirror.path)", "--run-dir", runDir.path, "--", guest,
            work.path,
        ])
        #expect(host.status == 0, "\(host.stderr)")
        #expect(String(decoding: RunFiles(url: runDir).result("verdict.txt") ?? Data(), as: UTF8.self) == "complete\n")
    }

    /// A keep-alive connection that has had its answer and then says nothing is closed after
    /// the idle timeout, like one that never sent a request.
    @Test func aKeepAliveConnectionIdleAfterItsReplyIsClosed() async throws {
        let runDir = Fixtures.runDirectory("keepalive")
        let work = Fixtures.temporaryDirectory("keepalive-work")
        let guest = Fixtures.guestScript(#"""
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            python3 -c '
            import socket, sys
            s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
            s.settimeout(15)
            verdicts = []
            for _ in range(2):
                s.sendall(("GET /t/%s/ HTTP/1.1\r\nHost: x\r\n\r\n" % sys.argv[2]).encode())
                reply = b""
                while b"\r\n\r\n" not in reply: reply += s.recv(4096)
                verdicts.append(reply.split(b" ")[1].decode())
            try:
                while s.recv(4096): pass
                verdicts.append("closed")
            except socket.timeout:
                verdicts.append("open")
            print(" ".join(verdicts))
            ' "$SUPPORT_HOST_PORT" "$SUPPORT_HOST_TOKEN" > "$1/verdict"
            curl -fsS -T "$1/verdict" "$SUPPORT_HOST_URL/verdict.txt" >/dev/null
            """#)
        let host = try await HostProcess.run([
            "run", "--result", "/verdict.txt", "--idle-timeout", "1", "--run-dir", runDir.path, "--", guest, work.path,
        ])
        #expect(host.status == 0, "\(host.stderr)")
        #expect(String(decoding: RunFiles(url: runDir).result("verdict.txt") ?? Data(), as: UTF8.self) == "200 200 closed\n")
    }
}
