import Foundation
import PluginAPI
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Timeouts, the stop sequence and every other way a run ends, with real guest processes.
/// Timeouts are short; assertions are about what happened, never about how fast.
@Suite(.enabled(if: Needs.curl, Needs.curlHint))
struct LifecycleTests {
    static func readPids(_ file: URL) -> [pid_t] {
        ((try? String(contentsOf: file, encoding: .utf8)) ?? "").split(whereSeparator: \.isWhitespace).compactMap { pid_t($0) }
    }

    static func steps(_ report: JSONValue) -> [String] {
        report["stop"]?["steps"]?.arrayValue?.compactMap { $0["step"]?.stringValue } ?? []
    }

    @Test func aGuestThatPingsThenGoesQuietHitsTheActivityTimeout() async throws {
        let runDir = Fixtures.runDirectory("quiet")
        let guest = Fixtures.guestScript(#"curl -fsS "$SUPPORT_HOST_URL/" >/dev/null; exec sleep 300"#)
        let host = try await HostProcess.run(["run", "--activity-timeout", "1", "--run-dir", runDir.path, "--", guest])
        #expect(host.status == 21, "\(host.stderr)")
        let report = try RunFiles(url: runDir).report
        #expect(report["outcome"] == "activity-timeout")
        #expect(report["stop"]?["last_request"] == "GET /")
        #expect(Self.steps(report) == ["SIGTERM"])
        #expect(report["guest"]?["signal_name"] == "SIGTERM")
        let last = host.stdout.split(separator: "\n").first { $0.hasPrefix("activity timeout") }.map(String.init) ?? ""
        #expect(last.hasPrefix("activity timeout: no request for 1 s (last: GET / at "), "\(last)")
        #expect(last.contains("stopped by SIGTERM after"), "\(last)")
    }

    /// Inputs that keep arriving (a ping every few milliseconds) never keep the run from
    /// checking its deadlines and its console.
    @Test func aGuestPingingInATightLoopStillMeetsTheTotalTimeout() async throws {
        let runDir = Fixtures.runDirectory("pinger")
        let guest = Fixtures.guestScript(#"while true; do curl -fsS "$SUPPORT_HOST_URL/" >/dev/null; done"#)
        let host = try await HostProcess.run(
            ["run", "--total-timeout", "3", "--fail-on", "never printed", "--run-dir", runDir.path, "--", guest], timeout: 60)
        #expect(host.status == 22, "\(host.stderr)")
        #expect(try RunFiles(url: runDir).report["outcome"] == "total-timeout")
    }

    @Test func mirrorReadsKeepTheGuestAliveUntilTheTotalTimeout() async throws {
        let runDir = Fixtures.runDirectory("reader")
        let mirror = Fixtures.temporaryDirectory("mirror")
        try Data("x".utf8).write(to: mirror.appendingPathComponent("f.txt"))
        let guest = Fixtures.guestScript(#"""
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            while true; do curl -fsS "$SUPPORT_HOST_URL/cpan/f.txt" >/dev/null; sleep 0.2; done
            """#)
        let host = try await HostProcess.run([
            "run", "--activity-timeout", "1.5", "--total-timeout", "4", "--mirror", "/cpan=\(mirror.path)",
            "--run-dir", runDir.path, "--", guest,
        ])
        #expect(host.status == 22, "\(host.stderr)")
        let report = try RunFiles(url: runDir).report
        #expect(report["outcome"] == "total-timeout")
        #expect((report["mirror_requests"]?.arrayValue?.count ?? 0) > 5, "reads went on past the activity timeout")
    }

    @Test func aGuestIgnoringSigtermAndItsGrandchildAreKilled() async throws {
        let runDir = Fixtures.runDirectory("stubborn")
        let pids = Fixtures.temporaryDirectory("pids").appendingPathComponent("pids")
        let guest = Fixtures.guestScript(#"""
            trap '' TERM
            sh -c 'trap "" TERM; sleep 300' &
            echo $$ $! > "$1"
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            while true; do sleep 1; done
            """#)
        let host = try await HostProcess.run([
            "run", "--activity-timeout", "1", "--kill-grace", "1", "--run-dir", runDir.path, "--", guest, pids.path,
        ])
        #expect(host.status == 21, "\(host.stderr)")
        let report = try RunFiles(url: runDir).report
        #expect(Self.steps(report) == ["SIGTERM", "SIGKILL"])
        #expect(report["guest"]?["signal_name"] == "SIGKILL")
        let started = Self.readPids(pids)
        #expect(started.count == 2)
        for pid in started { #expect(await Fixtures.eventually { !Fixtures.isAlive(pid) }, "pid \(pid) survived") }
    }

    @Test func aDaemonisedGrandchildDoesNotOutliveTheRun() async throws {
        let runDir = Fixtures.runDirectory("daemon")
        let pids = Fixtures.temporaryDirectory("pids").appendingPathComponent("pids")
        let guest = Fixtures.guestScript(#"""
            setsid sleep 300 </dev/null >/dev/null 2>&1 &
            echo $! > "$1"
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            """#)
        let host = try await HostProcess.run(["run", "--run-dir", runDir.path, "--", guest, pids.path])
        #expect(host.status == 0, "\(host.stderr)")
        let daemon = try #require(Self.readPids(pids).first)
        #expect(await Fixtures.eventually { !Fixtures.isAlive(daemon) }, "the setsid grandchild \(daemon) survived")
        #expect(RunFiles(url: runDir).journalText.contains("orphans-killed"))
    }

    @Test func aStopCommandThatMakesTheGuestExitSendsNoSignal() async throws {
        let runDir = Fixtures.runDirectory("stopcmd")
        let flag = Fixtures.temporaryDirectory("flag").appendingPathComponent("stop-now")
        let guest = Fixtures.guestScript(#"""
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            while [ ! -e "$1" ]; do sleep 0.1; done
            echo "powering off"
            """#)
        let host = try await HostProcess.run([
            "run", "--activity-timeout", "1", "--stop-command", "touch \(flag.path)", "--run-dir", runDir.path, "--", guest, flag.path,
        ])
        #expect(host.status == 21, "\(host.stderr)")
        let report = try RunFiles(url: runDir).report
        #expect(Self.steps(report) == ["stop-command"])
        #expect(report["guest"]?["exit_status"] == 0)
        #expect(report["guest"]?["during_stop_step"] == "stop-command")
        #expect(RunFiles(url: runDir).console.contains("powering off"))
    }

    @Test func stopCommandsAreTriedInTurnEachAStepOfItsOwn() async throws {
        let runDir = Fixtures.runDirectory("stopcmds")
        let flag = Fixtures.temporaryDirectory("flag").appendingPathComponent("stop-now")
        let guest = Fixtures.guestScript(#"""
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            while [ ! -e "$1" ]; do sleep 0.1; done
            """#)
        let host = try await HostProcess.run([
            "run", "--activity-timeout", "1", "--stop-grace", "1", "--stop-command", "echo ignored",
            "--stop-command", "touch \(flag.path)", "--run-dir", runDir.path, "--", guest, flag.path,
        ])
        #expect(host.status == 21, "\(host.stderr)")
        let report = try RunFiles(url: runDir).report
        #expect(Self.steps(report) == ["stop-command", "stop-command"])
        #expect(report["stop"]?["steps"]?.arrayValue?.map { $0["index"] } == [0, 1])
        #expect(report["guest"]?["exit_status"] == 0)
    }

    @Test func aGuestKilledByASignalIsACrash() async throws {
        let runDir = Fixtures.runDirectory("crash")
        let guest = Fixtures.guestScript(#"curl -fsS "$SUPPORT_HOST_URL/" >/dev/null; kill -SEGV $$"#)
        let host = try await HostProcess.run(["run", "--run-dir", runDir.path, "--", guest])
        #expect(host.status == 11, "\(host.stderr)")
        let report = try RunFiles(url: runDir).report
        #expect(report["outcome"] == "guest-crashed")
        #expect(report["guest"]?["signal"] == .int(Int64(SIGSEGV)))
        #expect(host.stdout.contains("guest crashed: killed by SIGSEGV"))
    }

    @Test func aGuestThatLingersAfterItsResultsIsStoppedAndTheRunCompletes() async throws {
        let runDir = Fixtures.runDirectory("linger")
        let guest = Fixtures.guestScript(#"""
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            echo done | curl -fsS -T - "$SUPPORT_HOST_URL/r.txt" >/dev/null
            exec sleep 300
            """#)
        let host = try await HostProcess.run(["run", "--result", "/r.txt", "--shutdown-timeout", "1", "--run-dir", runDir.path, "--", guest])
        #expect(host.status == 0, "\(host.stderr)")
        let report = try RunFiles(url: runDir).report
        #expect(report["outcome"] == "completed")
        #expect(report["stop"]?["cause"] == "shutdown-timeout")
        #expect(Self.steps(report) == ["SIGTERM"])
    }

    @Test func aGuestMayExtendItsDeadlineWithinTheCap() async throws {
        let runDir = Fixtures.runDirectory("extend")
        let guest = Fixtures.guestScript(#"""
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            curl -fsS -X POST --data 30 "$SUPPORT_HOST_URL/watchdog" > "$1.first"
            code=$(curl -s -o "$1.second" -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data '{"seconds": 31}' "$SUPPORT_HOST_URL/watchdog")
            test "$code" = 403
            curl -fsS -X POST --data '{"seconds": 30}' "$SUPPORT_HOST_URL/watchdog" > "$1.third"
            """#)
        let answers = Fixtures.temporaryDirectory("answers").appendingPathComponent("a")
        let host = try await HostProcess.run([
            "run", "--total-timeout", "100", "--max-extend", "60", "--run-dir", runDir.path, "--", guest, answers.path,
        ])
        #expect(host.status == 0, "\(host.stderr)\n\(RunFiles(url: runDir).console)")
        let first = try JSONValue.decode(Data(contentsOf: URL(fileURLWithPath: answers.path + ".first")))
        let third = try JSONValue.decode(Data(contentsOf: URL(fileURLWithPath: answers.path + ".third")))
        #expect((first["total_deadline"]?.doubleValue ?? 0) >= 130)
        #expect(first["granted"] == 30)
        #expect(third["granted"] == 60)
        #expect((third["total_deadline"]?.doubleValue ?? 0) >= 160)
        let refusal = try String(contentsOf: URL(fileURLWithPath: answers.path + ".second"), encoding: .utf8)
        #expect(refusal.contains("would exceed --max-extend 60 s"))
        #expect(try RunFiles(url: runDir).report["watchdog_extensions"]?.arrayValue?.count == 2)
    }

    @Test func watchdogExtensionIsRefusedByDefault() async throws {
        let runDir = Fixtures.runDirectory("noextend")
        let guest = Fixtures.guestScript(#"""
            code=$(curl -s -o "$1" -w '%{http_code}' -X POST --data 30 "$SUPPORT_HOST_URL/watchdog")
            test "$code" = 403
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            """#)
        let answer = Fixtures.temporaryDirectory("answer").appendingPathComponent("a")
        let host = try await HostProcess.run(["run", "--run-dir", runDir.path, "--", guest, answer.path])
        #expect(host.status == 0, "\(host.stderr)")
        #expect(try String(contentsOf: answer, encoding: .utf8).contains("--max-extend is 0"))
    }

    @Test func sigintToTheHostStopsTheGuestWritesTheReportAndExits130() async throws {
        let runDir = Fixtures.runDirectory("sigint")
        let pids = Fixtures.temporaryDirectory("pids").appendingPathComponent("pids")
        let guest = Fixtures.guestScript(#"""
            sleep 300 &
            echo $$ $! > "$1"
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            wait
            """#)
        let host = try HostProcess(["run", "--run-dir", runDir.path, "--", guest, pids.path])
        #expect(await Fixtures.eventually { RunFiles(url: runDir).journalText.contains("guest-started") }, "the guest never started")
        kill(host.pid, SIGINT)
        let status = await host.wait()
        #expect(status == 130, "\(host.stderr)")
        let report = try RunFiles(url: runDir).report
        #expect(report["outcome"] == "interrupted")
        #expect(report["stop"]?["detail"] == "SIGINT to the host")
        for pid in Self.readPids(pids) { #expect(await Fixtures.eventually { !Fixtures.isAlive(pid) }, "pid \(pid) survived") }
    }
}
