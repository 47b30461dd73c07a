import Foundation
import PluginAPI
import Testing

/// A plug-in's settings reach it in a real run: from the job file's `plugins` key, with
/// `--set` laid over it (Echo's `max_bytes`, through the real binary and a real guest).
@Suite(.enabled(if: Needs.curl, Needs.curlHint))
struct PluginSettingsRunTests {
    /// A guest that echoes 5 bytes and writes the status it got to its console.
    static let guest = Fixtures.guestScript(#"""
        curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
        printf hello | curl -s -o /dev/null -w 'echo status %{http_code}\n' -T - "$SUPPORT_HOST_URL/echo/greeting"
        """#)

    @Test func setOnTheCommandLineReachesThePlugin() async throws {
        let runDir = Fixtures.runDirectory("set-echo")
        let host = try await HostProcess.run(["run", "--set", "Echo.max_bytes=4", "--run-dir", runDir.path, "--", Self.guest])
        #expect(host.status == 0, "\(host.stderr)")
        #expect(RunFiles(url: runDir).console.contains("echo status 413"))
        let report = try RunFiles(url: runDir).report
        #expect(report["refused_requests"]?.arrayValue?.first?["status"] == 413)
    }

    @Test func setOverridesTheJobFile() async throws {
        let runDir = Fixtures.runDirectory("set-over-job")
        let job = Fixtures.temporaryDirectory("job").appendingPathComponent("job.json")
        try Data(#"{"plugins": {"Echo": {"max_bytes": 4}}}"#.utf8).write(to: job)
        let host = try await HostProcess.run([
            "run", "--job", job.path, "--set", "Echo.max_bytes=100", "--run-dir", runDir.path, "--", Self.guest,
        ])
        #expect(host.status == 0, "\(host.stderr)")
        #expect(RunFiles(url: runDir).console.contains("echo status 200"))
        #expect(try RunFiles(url: runDir).report["echoes"] == 1)
    }

    @Test func aVerbTakesSetToo() async throws {
        let host = try await HostProcess.run(["ping", "--set", "Nope.x=1", "--", "true"])
        #expect(host.status == 64, "\(host.stderr)")
        #expect(host.stderr.contains("no plug-in named 'Nope'"), "\(host.stderr)")
    }
}
