import Foundation
import PluginAPI
import SupportHost
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What the host says about a run is exact: no message contradicts another, a failure says
/// why and what to do, and help and errors name what the user typed. Messages that are the
/// contract are compared whole.
@Suite(.enabled(if: Needs.curl, Needs.curlHint))
struct PlainOutputTests {
    static func events(_ report: JSONValue) -> [String] {
        report["timeline"]?.arrayValue?.compactMap { $0["event"]?.stringValue } ?? []
    }

    /// A guest that pings only once it is told to stop: its ping is journaled as late and
    /// nothing announces a start.
    static let pingsWhenStopped = Fixtures.guestScript(#"""
        trap 'curl -fsS "$SUPPORT_HOST_URL/" >/dev/null; exit 0' TERM
        sleep 30 &
        wait
        """#)

    @Test func aPingDuringTheStopIsJournaledAsLateNotAnnouncedAsAStart() async throws {
        let runDir = Fixtures.runDirectory("late-ping")
        let host = try await HostProcess.run(["run", "--startup-timeout", "1", "--run-dir", runDir.path, "--", Self.pingsWhenStopped])
        #expect(host.status == 20, "\(host.stderr)")
        #expect(!host.stdout.contains("guest started"), "\(host.stdout)")
        #expect(host.stdout.contains("during the stop: too late to count as a start"), "\(host.stdout)")
        let report = try RunFiles(url: runDir).report
        #expect(Self.events(report).contains("late-ping"))
        #expect(!Self.events(report).contains("guest-started"))
        let line = report["line"]?.stringValue ?? ""
        #expect(line.hasPrefix("startup timeout: no ping within 1 s; the guest exited (exit status 0) "), "\(line)")
        #expect(line.hasSuffix(" into the stop, after SIGTERM"), "\(line)")
        let text = try await HostProcess.run(["report", runDir.path])
        #expect(text.stdout.contains("started:  no (a ping came "), "\(text.stdout)")
    }

    @Test func thePingVerbDoesNotCountALatePing() async throws {
        let runDir = Fixtures.runDirectory("late-ping-verb")
        let host = try await HostProcess.run(["ping", "--startup-timeout", "1", "--run-dir", runDir.path, "--", Self.pingsWhenStopped])
        #expect(host.status == 20, "\(host.stderr)")
        #expect(!host.stdout.contains("pinged "), "\(host.stdout)")
        #expect(host.stdout.contains("no ping before the run ended (a ping came "), "\(host.stdout)")
    }

    @Test func aGuestThatExitsByItselfDuringAStopCommandIsNotSaidToBeStoppedByIt() async throws {
        let runDir = Fixtures.runDirectory("own-exit")
        let guest = Fixtures.guestScript("sleep 2.5")
        let host = try await HostProcess.run([
            "run", "--startup-timeout", "1", "--stop-command", "sleep 20", "--run-dir", runDir.path, "--", guest,
        ])
        #expect(host.status == 20, "\(host.stderr)")
        let line = try RunFiles(url: runDir).report["line"]?.stringValue ?? ""
        #expect(host.stdout.contains("\n" + line + "\n"))
        #expect(line.hasPrefix("startup timeout: no ping within 1 s; the guest exited by itself "), "\(line)")
        #expect(line.hasSuffix(" into the stop, before stop command finished"), "\(line)")
        #expect(!host.stdout.contains("stopped by"), "\(host.stdout)")
    }

    @Test func theStatusLineShowsTheStopStepAndCountsInWords() {
        let stopping = RunStatus(
            elapsed: 12.4, state: "stopping", requests: 1, bytesIn: 0, bytesOut: 36, nextDeadline: "startup", untilDeadline: 0,
            stop: RunStatus.Stop(cause: "startup timeout", step: "stop command 1 of 2", nextStep: "stop command 2", untilNextStep: 25.2))
        #expect(stopping.text == "[00:12] stopping (startup timeout): stop command 1 of 2, stop command 2 in 00:25 · Ctrl-C again to force · 1 request · in 0 B · out 36 B")
        let running = RunStatus(
            elapsed: 3, state: "started", requests: 2, bytesIn: 2048, bytesOut: 0, nextDeadline: "activity", untilDeadline: 294.5)
        #expect(running.text == "[00:03] started · 2 requests · in 2.0 KiB · out 0 B · activity timeout in 04:54")
    }

    @Test func aPortInUseEndsTheRunWithItsOwnOutcomeAndASentence() async throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) == 0 && getsockname(listener, $0, &length) == 0 }
        }
        #expect(bound && listen(listener, 1) == 0)
        let port = Int(UInt16(bigEndian: address.sin_port))
        let runDir = Fixtures.runDirectory("port-in-use")
        let host = try await HostProcess.run(["run", "--listen", "127.0.0.1:\(port)", "--run-dir", runDir.path, "--", "true"])
        #expect(host.status == 32)
        #expect(host.stderr == """
            support-host: cannot listen on 127.0.0.1:\(port): the address is already in use (choose another port with --listen \
            HOST:PORT, or port 0 for any free one). The guest was not launched; run directory \(runDir.path) (outcome listen-failed).

            """)
        let report = try await HostProcess.run(["report", runDir.path])
        #expect(report.stdout.hasPrefix("outcome:  listen-failed (exit 32)"), "\(report.stdout)")
        #expect(report.stdout.contains("guest:    not launched"))
        let recovered = try await HostProcess.run(["recover", runDir.path])
        #expect(recovered.stdout.contains("outcome: listen-failed"), "\(recovered.stdout)")
    }

    @Test func reportSaysWhatIsWrongWithTheDirectoryItWasGiven() async throws {
        let missing = try await HostProcess.run(["report", "/nonexistent/run"])
        #expect(missing.status == 66)
        #expect(missing.stderr == "support-host: /nonexistent/run does not exist\n")
        let empty = Fixtures.temporaryDirectory("not-a-run")
        let notRun = try await HostProcess.run(["report", empty.path])
        #expect(notRun.stderr == "support-host: \(empty.path) is not a run directory (it has no journal.log)\n")
    }

    @Test func everyProblemOfAJobFileIsReportedAtOnceWithSuggestions() async throws {
        let job = JobTests.jobFile(#"{"comand": ["true"], "startup_timeout": -1, "resluts": ["/x"]}"#)
        let host = try await HostProcess.run(["run", "--job", job])
        #expect(host.status == 64)
        #expect(host.stderr == """
            support-host: bad job: 3 problems:
              - unknown job key 'comand' (did you mean 'command'?)
              - unknown job key 'resluts' (did you mean 'results'?)
              - job key 'startup_timeout' must be a positive number of seconds, not -1

            """)
    }

    @Test func aNegativeNumberGivesTheSameMessageWithOrWithoutEquals() async throws {
        let spaced = try await HostProcess.run(["run", "--startup-timeout", "-5", "--", "true"])
        let joined = try await HostProcess.run(["run", "--startup-timeout=-5", "--", "true"])
        #expect(spaced.status == 64 && joined.status == 64)
        #expect(spaced.stderr == "support-host: bad job: --startup-timeout must be a positive number of seconds, not -5\n")
        #expect(joined.stderr == spaced.stderr)
    }

    @Test func aBadGuestKindNamesTheFlagAndTheKinds() async throws {
        let host = try await HostProcess.run(["ping", "--guest", "kvm"])
        #expect(host.status == 64)
        #expect(host.stderr.hasPrefix("support-host: bad job: --guest kvm: no such guest kind; the kinds are local "), "\(host.stderr)")
        #expect(host.stderr.contains(", qemu:i386, qemu:arm64 "), "\(host.stderr)")
    }

    @Test func anArgumentAVerbDoesNotTakeIsRefused() async throws {
        let host = try await HostProcess.run(["ping", "extra-arg"])
        #expect(host.status == 64)
        #expect(host.stderr == "support-host: bad job: ping takes no argument, but was given 'extra-arg' (a guest launcher command goes after --)\n")
    }

    @Test func eachVerbHasItsOwnHelpAndEveryDocItNamesExists() async throws {
        for verb in ["ping", "discover", "test"] {
            let flag = try await HostProcess.run([verb, "--help"])
            let word = try await HostProcess.run(["help", verb])
            #expect(flag.status == 0 && word.stdout == flag.stdout)
            #expect(flag.stdout.contains("USAGE: support-host \(verb)"), "\(flag.stdout)")
            #expect(!flag.stdout.contains("scheme-verb"))
            for doc in flag.stdout.matches(of: /docs\/[a-z-]+\.md/).map({ String($0.output) }) {
                #expect(FileManager.default.fileExists(atPath: Fixtures.packageRoot.appendingPathComponent(doc).path), "\(verb) --help names \(doc)")
            }
        }
        let version = try await HostProcess.run(["--version"])
        #expect(version.status == 0 && version.stdout.range(of: #"^\d+\.\d+\.\d+\n$"#, options: .regularExpression) != nil)
    }

    @Test func thePluginTableCutsNoWord() async throws {
        let host = try await HostProcess.run(["plugins"])
        #expect(host.stdout.contains(" import,export,command,recover "), "\(host.stdout)")
    }

    @Test func aFailedRunShowsTheRefusedPathsAndTheConsoleTail() async throws {
        let runDir = Fixtures.runDirectory("why")
        let guest = Fixtures.guestScript(#"""
            printf 'booting \033[31mred\033[0m\n'
            echo "last words before the upload"
            echo data | curl -s -o /dev/null -T - "$SUPPORT_HOST_URL/rr.txt"
            """#)
        let host = try await HostProcess.run(["run", "--result", "/result.txt", "--run-dir", runDir.path, "--", guest])
        #expect(host.status == 12, "\(host.stderr)")
        let hint = "the guest put /rr.txt, which is not a result path; expected /result.txt"
        let report = try RunFiles(url: runDir).report
        #expect(report["refused_requests"]?.arrayValue?.first?["hint"]?.stringValue == hint)
        #expect(report["refused_requests_total"] == 1)
        #expect(report["console_tail"]?.arrayValue == ["booting red", "last words before the upload"])
        #expect(host.stdout.contains("  PUT /rr.txt → 404: \(hint)"), "\(host.stdout)")
        #expect(host.stdout.contains("  | last words before the upload"), "\(host.stdout)")
    }

    @Test func everyCommandNamesItsRunDirectoryTheSameWayAndSaysItFirst() async throws {
        let work = Fixtures.temporaryDirectory("cwd")
        let guest = Fixtures.guestScript(#"curl -fsS "$SUPPORT_HOST_URL/" >/dev/null"#)
        for arguments in [["run", "--", guest], ["ping", "--", guest], ["demo"]] {
            let host = try HostProcess(arguments, directory: work)
            #expect(await host.wait() == 0, "\(host.stderr)")
            let first = host.stdout.split(separator: "\n").first.map(String.init) ?? ""
            #expect(first.range(of: #"^support-host: run directory: .*/runs/\d{8}-\d{6}-[0-9a-f]{4}$"#, options: .regularExpression) != nil, "\(first)")
        }
        let listing = try HostProcess(["runs"], directory: work)
        #expect(await listing.wait() == 0)
        let lines = listing.stdout.split(separator: "\n")
        #expect(lines.count == 4, "\(listing.stdout)")
        #expect(lines.first?.hasPrefix("STARTED (UTC)") == true)
        #expect(lines.dropFirst().allSatisfy { $0.contains(" completed ") && $0.contains("runs/") }, "\(listing.stdout)")
        let none = try HostProcess(["runs", "--outcome", "activity-timeout"], directory: work)
        #expect(await none.wait() == 0)
        #expect(none.stdout == "no runs under runs with outcome activity-timeout\n")
    }
}
