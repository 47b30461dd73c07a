import Foundation
import PluginAPI
import Testing

/// Platforms and PITA-XML results through the real binary.
@Suite(.enabled(if: Needs.curl, Needs.curlHint))
struct DiscoveryTests {
    /// A run whose guest sends a JSON platform to `/discover/python`, a PITA-XML `<guest>` with
    /// two platforms to `/discover/perl`; returns the run directory.
    static func discoveryRun(_ name: String, archname: String = "x86_64-linux-gnu-thread-multi") async throws -> URL {
        let runDir = Fixtures.runDirectory(name)
        let scratch = Fixtures.temporaryDirectory(name)
        try Data(PITAFixtures.jsonPlatform.utf8).write(to: scratch.appendingPathComponent("platform.json"))
        try Data(PITAFixtures.guest(archname: archname).utf8).write(to: scratch.appendingPathComponent("guest.xml"))
        let guest = Fixtures.guestScript(#"""
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            curl -fsS -T "$1/platform.json" -H 'Content-Type: application/json' "$SUPPORT_HOST_URL/discover/python"
            curl -fsS -X POST --data-binary @"$1/guest.xml" -H 'Content-Type: application/xml' "$SUPPORT_HOST_URL/discover/perl"
            """#)
        let host = try await HostProcess.run(["run", "--run-dir", runDir.path, "--", guest, scratch.path])
        #expect(host.status == 0, "\(host.stderr)\n\(RunFiles(url: runDir).console)")
        return runDir
    }

    static func hashes(_ runDir: URL) throws -> [String: String] {
        var hashes: [String: String] = [:]
        for platform in try RunFiles(url: runDir).report["platforms"]?.arrayValue ?? [] {
            hashes[platform["path"]?.stringValue ?? "?"] = platform["hash"]?.stringValue
        }
        return hashes
    }

    @Test func jsonAndPITAXMLPlatformsHashTheSameAcrossRuns() async throws {
        let first = try Self.hashes(try await Self.discoveryRun("platforms-1"))
        let second = try Self.hashes(try await Self.discoveryRun("platforms-2"))
        #expect(first.keys.sorted() == ["/opt/perl-5.8.8/bin/perl", "/usr/bin/perl", "/usr/bin/python3"])
        #expect(first == second)
    }

    @Test func onePairDifferingChangesOneHashAndPlatformsDiffNamesIt() async throws {
        let runA = try await Self.discoveryRun("diff-a")
        let runB = try await Self.discoveryRun("diff-b", archname: "i686-linux")
        let a = try Self.hashes(runA)
        let b = try Self.hashes(runB)
        #expect(a["/usr/bin/perl"] != b["/usr/bin/perl"])
        #expect(a["/opt/perl-5.8.8/bin/perl"] == b["/opt/perl-5.8.8/bin/perl"])
        #expect(a["/usr/bin/python3"] == b["/usr/bin/python3"])
        let diff = try await HostProcess.run(["platforms", "diff", runA.path, runB.path])
        #expect(diff.status == 1, "\(diff.stderr)")
        #expect(diff.stdout.contains(#"~ config.archname: "x86_64-linux-gnu-thread-multi" → "i686-linux""#), "\(diff.stdout)")
        #expect(!diff.stdout.contains("/opt/perl-5.8.8"))
        let same = try await HostProcess.run(["platforms", "diff", runA.path, runA.path])
        #expect(same.status == 0)
    }

    @Test func guestDocumentPutToAResultPathGivesPlatformsToo() async throws {
        let runDir = Fixtures.runDirectory("result-guest")
        let scratch = Fixtures.temporaryDirectory("result-guest")
        try Data(PITAFixtures.guest().utf8).write(to: scratch.appendingPathComponent("guest.xml"))
        let guest = Fixtures.guestScript(#"""
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            curl -fsS -T "$1/guest.xml" -H 'Content-Type: application/xml' "$SUPPORT_HOST_URL/1"
            """#)
        let host = try await HostProcess.run(["run", "--result", "/1", "--run-dir", runDir.path, "--", guest, scratch.path])
        let files = RunFiles(url: runDir)
        #expect(host.status == 0, "\(host.stderr)\n\(files.console)")
        let report = try files.report
        #expect(report["results"]?.arrayValue?.first?["path"] == "/1")
        let platforms = report["platforms"]?.arrayValue ?? []
        #expect(platforms.count == 2)
        #expect(platforms.allSatisfy { $0["received_at"] == "/1" })
        #expect(try Self.hashes(runDir)["/usr/bin/perl"] == Self.hashes(try await Self.discoveryRun("result-guest-ref"))["/usr/bin/perl"])
    }

    @Test func externalEntityAndBillionLaughsAreRefusedAndNothingIsStored() async throws {
        let runDir = Fixtures.runDirectory("xxe")
        let scratch = Fixtures.temporaryDirectory("xxe")
        try Data(PITAFixtures.xxe.utf8).write(to: scratch.appendingPathComponent("xxe.xml"))
        try Data(PITAFixtures.billionLaughs.utf8).write(to: scratch.appendingPathComponent("lol.xml"))
        let guest = Fixtures.guestScript(#"""
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            for doc in xxe lol; do
                code=$(curl -s -o /dev/null -w '%{http_code}' -T "$1/$doc.xml" -H 'Content-Type: application/xml' "$SUPPORT_HOST_URL/discover/$doc")
                test "$code" = 422
            done
            """#)
        let host = try await HostProcess.run(["run", "--run-dir", runDir.path, "--", guest, scratch.path])
        let files = RunFiles(url: runDir)
        #expect(host.status == 0, "\(host.stderr)\n\(files.console)")
        #expect(try files.report["platforms"]?.arrayValue == [])
        #expect(!files.journalText.contains(#""kind":"platform""#))
        #expect(!files.journalText.contains("root:"), "nothing of /etc/passwd reached the journal")
    }

    @Test func pitaXMLReportResultIsSummarised() async throws {
        let runDir = Fixtures.runDirectory("pita-report")
        let scratch = Fixtures.temporaryDirectory("pita-report")
        try Data(PITAFixtures.report.utf8).write(to: scratch.appendingPathComponent("report.pita"))
        let guest = Fixtures.guestScript(#"""
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            curl -fsS -T "$1/report.pita" "$SUPPORT_HOST_URL/report.pita"
            """#)
        let host = try await HostProcess.run(["run", "--result", "/report.pita", "--run-dir", runDir.path, "--", guest, scratch.path])
        let files = RunFiles(url: runDir)
        #expect(host.status == 0, "\(host.stderr)\n\(files.console)")
        let summary = try files.report["results"]?.arrayValue?.first?["pita_report"]
        let tests = summary?["tests"]?.arrayValue ?? []
        #expect(tests.map { $0["name"] } == ["t/01_main.t", "t/02_more.t"])
        #expect(tests.map { $0["exit_code"] } == [0, 1])
        #expect(tests.map { $0["passed"] } == [3, 2])
        #expect(tests.map { $0["failed"] } == [0, 1])
        #expect(summary?["commands"]?.arrayValue?.map { $0["exit_code"] } == [.null, .null, 2])
        let printed = try await HostProcess.run(["report", runDir.path])
        #expect(printed.stdout.contains("test t/02_more.t: exit 1, 2 passed, 1 failed"), "\(printed.stdout)")
    }
}
