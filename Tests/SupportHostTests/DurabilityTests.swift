import Crypto
import Foundation
import PluginAPI
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What the guest was told was received is never lost: the host is killed for real.
@Suite(.enabled(if: Needs.curl, Needs.curlHint))
struct DurabilityTests {
    static func sha256(_ data: Data) -> String { SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined() }

    /// The guest's process group, from the journal, so a test never leaves it behind.
    static func killGuest(_ runDir: URL) {
        let text = RunFiles(url: runDir).journalText
        guard let range = text.range(of: #""pid":"#) else { return }
        let digits = text[range.upperBound...].prefix { $0.isNumber }
        if let pid = pid_t(digits) { kill(-pid, SIGKILL) }
    }

    @Test func anAcknowledgedUploadSurvivesSigkillOfTheHost() async throws {
        let runDir = Fixtures.runDirectory("crash")
        let work = Fixtures.temporaryDirectory("crash-work")
        // Over `DirectWriter`'s 1 MiB blocks, with a tail that is not aligned: past the page
        // cache, then the tail through it, and both durable once acknowledged.
        let payload = Fixtures.randomData(3_000_001)
        try payload.write(to: work.appendingPathComponent("payload"))
        let guest = Fixtures.guestScript(#"""
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            curl -fsS -T "$1/payload" "$SUPPORT_HOST_URL/big.bin" > "$1/ack"
            exec sleep 300
            """#)
        let host = try HostProcess(["run", "--result", "/big.bin", "--result", "/never.txt", "--run-dir", runDir.path, "--", guest, work.path])
        defer { Self.killGuest(runDir) }
        #expect(await Fixtures.eventually(timeout: 30) { ((try? Data(contentsOf: work.appendingPathComponent("ack"))) ?? Data()).count > 0 })
        kill(host.pid, SIGKILL)
        _ = await host.wait()

        let recover = try await HostProcess.run(["recover", runDir.path])
        #expect(recover.status == 0, "\(recover.stderr)")
        let report = try RunFiles(url: runDir).report
        #expect(report["outcome"] == "host-crashed")
        let result = try #require(report["results"]?.arrayValue?.first)
        #expect(result["sha256"] == .string(Self.sha256(payload)))
        #expect(RunFiles(url: runDir).result("big.bin") == payload)
        #expect(report["guest"]?["pid"] != nil)
    }

    /// A small result is made durable by its journal record, which carries its bytes; a file a
    /// machine crash lost (here: truncated, and one deleted) is written back by `recover`.
    @Test func smallResultsLostAfterTheirAcknowledgementAreRestoredFromTheJournal() async throws {
        let runDir = Fixtures.runDirectory("inline")
        let work = Fixtures.temporaryDirectory("inline-work")
        let small = Fixtures.randomData(4096), other = Fixtures.randomData(100), large = Fixtures.randomData(200_000)
        try small.write(to: work.appendingPathComponent("small"))
        try other.write(to: work.appendingPathComponent("other"))
        try large.write(to: work.appendingPathComponent("large"))
        let guest = Fixtures.guestScript(#"""
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            for name in small other large; do curl -fsS -T "$1/$name" "$SUPPORT_HOST_URL/$name.bin" >/dev/null; done
            """#)
        let run = try await HostProcess.run([
            "run", "--result", "/small.bin", "--result", "/other.bin", "--result", "/large.bin", "--run-dir", runDir.path, "--", guest, work.path,
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let files = RunFiles(url: runDir)
        let records = files.journalText.split(separator: "\n").filter { $0.contains(#""kind":"result-stored""#) }
        #expect(records.count == 3)
        #expect(records.filter { $0.contains(#""inline_base64":""#) }.count == 2, "the 200 kB result is fsynced itself, not inlined")
        #expect(!String(decoding: try Data(contentsOf: runDir.appendingPathComponent("report.json")), as: UTF8.self).contains("inline_base64"))

        // What a machine crash can leave of files written without their own fsync.
        try Data(small.prefix(1000)).write(to: runDir.appendingPathComponent("results/small.bin"))
        try FileManager.default.removeItem(at: runDir.appendingPathComponent("results/other.bin"))
        let recover = try await HostProcess.run(["recover", runDir.path])
        #expect(recover.status == 0, "\(recover.stderr)")
        #expect(files.result("small.bin") == small)
        #expect(files.result("other.bin") == other)
        #expect(files.result("large.bin") == large)
        let results = try files.report["results"]?.arrayValue ?? []
        #expect(results.count == 3)
        #expect(results.allSatisfy { $0["verified"] == true }, "\(results)")
        #expect(results.filter { $0["restored_from_journal"] == true }.count == 2)
    }

    /// Small results acknowledged but whose files were not written yet (none are held in
    /// memory here, so none is written before the run's end) when the host is killed: `recover`
    /// writes every one from the journal.
    @Test func smallResultsWaitingForTheirFilesSurviveSigkillOfTheHost() async throws {
        let runDir = Fixtures.runDirectory("deferred")
        let work = Fixtures.temporaryDirectory("deferred-work")
        let payloads = (1...20).map { _ in Fixtures.randomData(3000) }
        for (index, payload) in payloads.enumerated() { try payload.write(to: work.appendingPathComponent("r\(index + 1)")) }
        let guest = Fixtures.guestScript(#"""
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            for i in $(seq 1 20); do curl -fsS -T "$1/r$i" "$SUPPORT_HOST_URL/r$i.bin" >/dev/null & done
            wait
            touch "$1/done"
            exec sleep 300
            """#)
        let results = (1...20).flatMap { ["--result", "/r\($0).bin"] }
        let host = try HostProcess(["run"] + results + ["--set", "Test.deferred_file_bytes=0", "--run-dir", runDir.path, "--", guest, work.path])
        defer { Self.killGuest(runDir) }
        #expect(await Fixtures.eventually(timeout: 60) { FileManager.default.fileExists(atPath: work.appendingPathComponent("done").path) })
        kill(host.pid, SIGKILL)
        _ = await host.wait()
        let files = RunFiles(url: runDir)
        #expect(!FileManager.default.fileExists(atPath: runDir.appendingPathComponent("results/r1.bin").path), "written before the run's end")
        let recover = try await HostProcess.run(["recover", runDir.path])
        #expect(recover.status == 0, "\(recover.stderr)")
        for (index, payload) in payloads.enumerated() { #expect(files.result("r\(index + 1).bin") == payload) }
        let reported = try files.report["results"]?.arrayValue ?? []
        #expect(reported.count == 20)
        #expect(reported.allSatisfy { $0["verified"] == true && $0["restored_from_journal"] == true }, "\(reported)")
    }

    @Test func anUploadCutShortByAHostCrashIsNeverReportedAndItsPartialFileIsRemoved() async throws {
        let runDir = Fixtures.runDirectory("cut")
        let guest = Fixtures.guestScript(#"""
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            head -c 5000000 /dev/zero | curl -s --limit-rate 200k -T - "$SUPPORT_HOST_URL/slow.bin" >/dev/null || true
            exec sleep 300
            """#)
        let host = try HostProcess(["run", "--optional-result", "/slow.bin", "--run-dir", runDir.path, "--", guest])
        defer { Self.killGuest(runDir) }
        let results = runDir.appendingPathComponent("results")
        #expect(await Fixtures.eventually(timeout: 30) {
            ((try? FileManager.default.contentsOfDirectory(atPath: results.path)) ?? []).contains { $0.hasPrefix(".partial-") }
        })
        kill(host.pid, SIGKILL)
        _ = await host.wait()
        let recover = try await HostProcess.run(["recover", runDir.path])
        #expect(recover.status == 0, "\(recover.stderr)")
        let report = try RunFiles(url: runDir).report
        #expect(report["results"]?.arrayValue == [])
        #expect(report["removed_incomplete_uploads"]?.arrayValue?.count == 1)
        #expect((try FileManager.default.contentsOfDirectory(atPath: results.path)).isEmpty)
    }

    @Test func aRetriedUploadWithTheSameRequestIdIsAnsweredAgainNotAppliedTwice() async throws {
        let runDir = Fixtures.runDirectory("dedupe")
        let work = Fixtures.temporaryDirectory("dedupe-work")
        let guest = Fixtures.guestScript(#"""
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            echo first | curl -fsS -H 'X-Request-Id: upload-1' -T - "$SUPPORT_HOST_URL/log.txt" > "$1/one"
            echo other | curl -fsS -D "$1/headers" -H 'X-Request-Id: upload-1' -T - "$SUPPORT_HOST_URL/log.txt" > "$1/two"
            """#)
        let host = try await HostProcess.run(["run", "--result", "/log.txt", "--run-dir", runDir.path, "--", guest, work.path])
        #expect(host.status == 0, "\(host.stderr)\n\(RunFiles(url: runDir).console)")
        let one = try Data(contentsOf: work.appendingPathComponent("one"))
        #expect(one == (try Data(contentsOf: work.appendingPathComponent("two"))))
        #expect(try String(contentsOf: work.appendingPathComponent("headers"), encoding: .utf8).lowercased().contains("x-duplicate: true"))
        #expect(RunFiles(url: runDir).result("log.txt") == Data("first\n".utf8))
        #expect(RunFiles(url: runDir).journalText.contains("duplicate of request upload-1"))
    }

    @Test func aNewHostTakesOverALiveRunAndCompletesIt() async throws {
        let runDir = Fixtures.runDirectory("resume")
        let work = Fixtures.temporaryDirectory("resume-work")
        let guest = Fixtures.guestScript(#"""
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            echo one | curl -fsS -H 'X-Request-Id: r1' -T - "$SUPPORT_HOST_URL/one.txt" > "$1/first"
            touch "$1/between"
            while [ ! -e "$1/go" ]; do sleep 0.1; done
            echo one | curl -fsS -H 'X-Request-Id: r1' -T - "$SUPPORT_HOST_URL/one.txt" > "$1/again"
            echo two | curl -fsS --retry 30 --retry-connrefused --retry-delay 1 -T - "$SUPPORT_HOST_URL/two.txt" >/dev/null
            """#)
        let first = try HostProcess(["run", "--result", "/one.txt", "--result", "/two.txt", "--run-dir", runDir.path, "--", guest, work.path])
        defer { Self.killGuest(runDir) }
        #expect(await Fixtures.eventually(timeout: 30) { FileManager.default.fileExists(atPath: work.appendingPathComponent("between").path) })
        kill(first.pid, SIGKILL)
        _ = await first.wait()

        let second = try HostProcess(["run", "--resume", runDir.path])
        #expect(await Fixtures.eventually(timeout: 30) { RunFiles(url: runDir).journalText.contains("host-resumed") })
        #expect(await Fixtures.eventually(timeout: 30) {
            RunFiles(url: runDir).journalText.components(separatedBy: #""kind":"listening""#).count == 3
        })
        _ = FileManager.default.createFile(atPath: work.appendingPathComponent("go").path, contents: nil)
        let status = await second.wait()
        #expect(status == 0, "\(second.stderr)\n\(second.stdout)")
        let report = try RunFiles(url: runDir).report
        #expect(report["outcome"] == "completed")
        #expect(report["guest"]?["status_unknown"] == true)
        #expect(report["results"]?.arrayValue?.count == 2)
        #expect(try Data(contentsOf: work.appendingPathComponent("first")) == (try Data(contentsOf: work.appendingPathComponent("again"))),
            "the retried request is answered as before, across the resume")
    }
}
