import Crypto
import Foundation
import PluginAPI
import Testing

@testable import SupportHost

/// A whole run through the real binary, a real server on loopback and real guest processes.
@Suite(.enabled(if: Needs.curl, Needs.curlHint))
struct WholeRunTests {
    @Test func pingAndExitGuestCompletes() async throws {
        let runDir = Fixtures.runDirectory("ping")
        let guest = Fixtures.guestScript(#"curl -fsS "$SUPPORT_HOST_URL/""#)
        let host = try await HostProcess.run(["run", "--run-dir", runDir.path, "--", guest])
        #expect(host.status == 0, "\(host.stderr)")
        let report = try RunFiles(url: runDir).report
        #expect(report["outcome"] == "completed")
        #expect(report["pinged"] == true)
        #expect(report["guest"]?["exit_status"] == 0)
        #expect(RunFiles(url: runDir).console.contains("SupportHost ready"))
    }

    @Test func placeholdersInArgumentsCarryTheAddress() async throws {
        let runDir = Fixtures.runDirectory("placeholders")
        let guest = Fixtures.guestScript(#"test "$1" = "$SUPPORT_HOST_URL"; test "$2" = "$SUPPORT_HOST_PORT"; curl -fsS "$1/""#)
        let host = try await HostProcess.run(["run", "--run-dir", runDir.path, "--", guest, "{url}", "{port}"])
        #expect(host.status == 0, "\(host.stderr)")
        #expect(try RunFiles(url: runDir).report["pinged"] == true)
    }

    @Test func guestExitingThreeIsReportedWithStatusThree() async throws {
        let runDir = Fixtures.runDirectory("exit3")
        let guest = Fixtures.guestScript(#"curl -fsS "$SUPPORT_HOST_URL/" >/dev/null; exit 3"#)
        let host = try await HostProcess.run(["run", "--run-dir", runDir.path, "--", guest])
        #expect(host.status == 10)
        let report = try RunFiles(url: runDir).report
        #expect(report["outcome"] == "guest-failed")
        #expect(report["guest"]?["exit_status"] == 3)
        #expect(host.stdout.contains("exit status 3"))
    }

    @Test func silentGuestHitsStartupTimeoutAndLeavesNoProcess() async throws {
        let runDir = Fixtures.runDirectory("silent")
        let pidFile = Fixtures.temporaryDirectory("pid").appendingPathComponent("pid")
        let guest = Fixtures.guestScript("sleep 300 & echo $! > \(pidFile.path); wait")
        let host = try await HostProcess.run(["run", "--startup-timeout", "1", "--run-dir", runDir.path, "--", guest])
        #expect(host.status == 20, "\(host.stderr)")
        let report = try RunFiles(url: runDir).report
        #expect(report["outcome"] == "startup-timeout")
        #expect(report["pinged"] == false)
        #expect(report["stop"]?["cause"] == "startup-timeout")
        let sleeper = pid_t(try String(contentsOf: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))!
        #expect(await Fixtures.eventually { !Fixtures.isAlive(sleeper) }, "the guest's child \(sleeper) survived the run")
    }

    @Test func resultPutIsStoredByteExact() async throws {
        let runDir = Fixtures.runDirectory("result")
        let payload = Fixtures.randomData(300_000)
        let source = Fixtures.temporaryDirectory("payload").appendingPathComponent("report.bin")
        try payload.write(to: source)
        let guest = Fixtures.guestScript(#"curl -fsS "$SUPPORT_HOST_URL/" >/dev/null; curl -fsS -T "$1" "$SUPPORT_HOST_URL/result.bin""#)
        let host = try await HostProcess.run(["run", "--result", "/result.bin", "--run-dir", runDir.path, "--", guest, source.path])
        #expect(host.status == 0, "\(host.stderr)")
        let files = RunFiles(url: runDir)
        #expect(files.result("result.bin") == payload)
        let digest = SHA256.hash(data: payload).map { String(format: "%02x", $0) }.joined()
        let result = try files.report["results"]?.arrayValue?.first
        #expect(result?["sha256"] == .string(digest))
        #expect(result?["size"] == 300_000)
        #expect(result?["file"] == "results/result.bin")
        #expect(files.console.contains(digest), "the 201 answer carries the digest")
    }

    @Test func exitZeroWithRequiredResultMissingIsItsOwnOutcome() async throws {
        let runDir = Fixtures.runDirectory("missing")
        let guest = Fixtures.guestScript(#"curl -fsS "$SUPPORT_HOST_URL/""#)
        let host = try await HostProcess.run(["run", "--result", "/a.xml", "--optional-result", "/b.log", "--run-dir", runDir.path, "--", guest])
        #expect(host.status == 12)
        let report = try RunFiles(url: runDir).report
        #expect(report["outcome"] == "results-missing")
        #expect(report["line"]?.stringValue?.contains("/a.xml") == true)
        #expect(report["line"]?.stringValue?.contains("/b.log") == false)
    }

    @Test func unknownPathIsA404FromTheHostAndTheRunGoesOn() async throws {
        let runDir = Fixtures.runDirectory("unknown")
        let guest = Fixtures.guestScript(#"""
            code=$(curl -s -o /dev/null -w '%{http_code}' "$SUPPORT_HOST_URL/no/such/thing")
            test "$code" = 404
            code=$(curl -s -o /dev/null -w '%{http_code}' -T /etc/hostname "$SUPPORT_HOST_URL/not-a-result")
            test "$code" = 404
            curl -fsS "$SUPPORT_HOST_URL/"
            """#)
        let host = try await HostProcess.run(["run", "--run-dir", runDir.path, "--", guest])
        #expect(host.status == 0, "\(host.stderr)")
        let files = RunFiles(url: runDir)
        #expect(try files.report["requests"]?["by_status"]?["404"] == 2)
        #expect(files.journalText.contains(#""path":"/no/such/thing""#))
        #expect(files.journalText.contains("no plug-in answers this path"))
    }

    @Test func aThrowingHookAnswers4xxOr500AndTheRunGoesOn() async throws {
        let runDir = Fixtures.runDirectory("throwing")
        // Bad JSON to Discover: its import hook throws a 400. Removing results/ under the Test
        // plug-in makes its import hook fail for a reason of the host's: a 500 for a result
        // large enough to stream to a file there (a small one waits in the journal).
        let guest = Fixtures.guestScript(#"""
            code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data 'not json' "$SUPPORT_HOST_URL/discover/x")
            test "$code" = 400
            rm -rf "$1/results"
            big=$(mktemp); trap 'rm -f "$big"' EXIT
            head -c 70000 /dev/zero > "$big"
            code=$(curl -s -o /dev/null -w '%{http_code}' -T "$big" "$SUPPORT_HOST_URL/out.txt")
            test "$code" = 500
            code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$SUPPORT_HOST_URL/")
            test "$code" = 405
            curl -fsS "$SUPPORT_HOST_URL/"
            """#)
        let host = try await HostProcess.run([
            "run", "--optional-result", "/out.txt", "--run-dir", runDir.path, "--", guest, runDir.path,
        ])
        #expect(host.status == 0, "\(host.stderr)\n\(RunFiles(url: runDir).console)")
        let report = try RunFiles(url: runDir).report
        #expect(report["requests"]?["by_status"]?["400"] == 1)
        #expect(report["requests"]?["by_status"]?["500"] == 1)
        #expect(report["requests"]?["by_status"]?["405"] == 1)
        #expect(RunFiles(url: runDir).journalText.contains("Test failed"))
    }

    @Test func theReportIsRebuiltFromTheJournalAlone() async throws {
        let runDir = Fixtures.runDirectory("rebuild")
        let guest = Fixtures.guestScript(#"curl -fsS "$SUPPORT_HOST_URL/"; echo hi | curl -fsS -T - "$SUPPORT_HOST_URL/r.txt""#)
        let host = try await HostProcess.run(["run", "--result", "/r.txt", "--run-dir", runDir.path, "--", guest])
        #expect(host.status == 0, "\(host.stderr)")
        let files = RunFiles(url: runDir)
        let original = try files.report
        try FileManager.default.removeItem(at: runDir.appendingPathComponent("report.json"))
        #expect(try ReportBuilder.rebuild(RunDirectory(url: runDir)) == original)
        let recover = try await HostProcess.run(["recover", runDir.path])
        #expect(recover.status == 0, "\(recover.stderr)")
        #expect(recover.stdout.contains("outcome: completed"), "a finished run keeps its outcome")
        #expect(try files.report["results"]?.arrayValue?.first?["verified"] == true)
        #expect(try files.report["outcome"] == original["outcome"])
        let printed = try await HostProcess.run(["report", runDir.path])
        #expect(printed.stdout.contains("outcome:  completed"))
        #expect(printed.stdout.contains("/r.txt → results/r.txt (3 bytes"))
    }

    @Test func pluginsCommandPrintsTheTable() async throws {
        let host = try await HostProcess.run(["plugins"])
        #expect(host.status == 0)
        for name in ["Ping", "Discover", "Test", "CPANMirror"] { #expect(host.stdout.contains(name)) }
        #expect(host.stdout.contains("export,recover"))
        #expect(host.stdout.contains("404 from the host"))
    }

    @Test func demoRunsAWholeRun() async throws {
        let workDir = Fixtures.temporaryDirectory("demo")
        let host = try HostProcess(["demo", "--run-dir", workDir.appendingPathComponent("run").path], directory: workDir)
        let status = await host.wait()
        #expect(status == 0, "\(host.stderr)")
        #expect(host.stdout.contains("outcome:  completed"))
        #expect(host.stdout.contains("GET /cpan/hello.txt → 200"))
        #expect(RunFiles(url: workDir.appendingPathComponent("run")).result("result.json") != nil)
    }
}
