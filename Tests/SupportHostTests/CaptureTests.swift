import Foundation
import PluginAPI
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Result files through the real binary: size, digest, repeats, conflicts, limits, broken
/// uploads and unsafe paths.
@Suite(.enabled(if: Needs.curl, Needs.curlHint))
struct CaptureTests {
    @Test func hundredMegabyteUploadMatchesItsDigestAndKeepsHostMemoryFlat() async throws {
        let runDir = Fixtures.runDirectory("big")
        let scratch = Fixtures.temporaryDirectory("big")
        defer { try? FileManager.default.removeItem(at: scratch); try? FileManager.default.removeItem(at: runDir) }
        let guest = Fixtures.guestScript(#"""
            dd if=/dev/urandom of="$1/big.bin" bs=1048576 count=100 2>/dev/null
            sha256sum "$1/big.bin" | cut -d' ' -f1 > "$1/big.sha256"
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            touch "$1/pinged"
            while [ ! -f "$1/go" ]; do sleep 0.05; done
            curl -fsS -T "$1/big.bin" "$SUPPORT_HOST_URL/big.bin" -o /dev/null
            """#)
        let host = try HostProcess(["run", "--result", "/big.bin", "--run-dir", runDir.path, "--", guest, scratch.path])
        #expect(await Fixtures.waitForFile(scratch.appendingPathComponent("pinged")), "the guest never pinged")
        let baseline = (0..<5).compactMap { _ in Fixtures.residentKiB(host.pid) }.max() ?? 0
        _ = FileManager.default.createFile(atPath: scratch.appendingPathComponent("go").path, contents: nil)
        var peak = baseline
        let deadline = Date().addingTimeInterval(180)
        while host.process.isRunning && Date() < deadline {
            if let rss = Fixtures.residentKiB(host.pid) { peak = max(peak, rss) }
            try await Task.sleep(for: .milliseconds(10))
        }
        let status = await host.wait()
        #expect(status == 0, "\(host.stderr)")
        let growth = peak - baseline
        Fixtures.note("100 MiB upload: host VmRSS baseline \(baseline) KiB, peak \(peak) KiB, growth \(growth) KiB")
        #expect(growth < 48 * 1024, "host RSS grew by \(growth) KiB during a 100 MiB upload")
        let expected = try String(contentsOf: scratch.appendingPathComponent("big.sha256"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let result = try RunFiles(url: runDir).report["results"]?.arrayValue?.first
        #expect(result?["sha256"] == .string(expected))
        #expect(result?["size"] == .int(100 * 1_048_576))
    }

    @Test func identicalRepeatIsAnswered200() async throws {
        let runDir = Fixtures.runDirectory("repeat")
        let guest = Fixtures.guestScript(#"""
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            test "$(echo same | curl -s -o /dev/null -w '%{http_code}' -T - "$SUPPORT_HOST_URL/r.txt")" = 201
            test "$(echo same | curl -s -o /dev/null -w '%{http_code}' -T - "$SUPPORT_HOST_URL/r.txt")" = 200
            """#)
        let host = try await HostProcess.run(["run", "--result", "/r.txt", "--run-dir", runDir.path, "--", guest])
        #expect(host.status == 0, "\(host.stderr)\n\(RunFiles(url: runDir).console)")
        let report = try RunFiles(url: runDir).report
        #expect(report["results"]?.arrayValue?.count == 1)
        #expect(report["requests"]?["by_status"]?["200"] == 2, "the ping and the repeat")
    }

    @Test func differentContentIsAConflict409JournaledWithBothDigests() async throws {
        let runDir = Fixtures.runDirectory("conflict")
        let guest = Fixtures.guestScript(#"""
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            test "$(echo first | curl -s -o /dev/null -w '%{http_code}' -T - "$SUPPORT_HOST_URL/r.txt")" = 201
            test "$(echo second | curl -s -o /dev/null -w '%{http_code}' -T - "$SUPPORT_HOST_URL/r.txt")" = 409
            """#)
        let host = try await HostProcess.run(["run", "--result", "/r.txt", "--run-dir", runDir.path, "--", guest])
        #expect(host.status == 0, "\(host.stderr)\n\(RunFiles(url: runDir).console)")
        let files = RunFiles(url: runDir)
        #expect(files.result("r.txt") == Data("first\n".utf8), "the first content stays")
        let digest = { (text: String) in Fixtures.sha256(Data(text.utf8)) }
        #expect(files.journalText.contains(#""kind":"result-conflict""#))
        #expect(files.journalText.contains(#""stored_sha256":"\#(digest("first\n"))""#))
        #expect(files.journalText.contains(#""sent_sha256":"\#(digest("second\n"))""#))
    }

    @Test func bodyAnnouncedOverTheLimitIs413AndLeavesNothingInResults() async throws {
        let runDir = Fixtures.runDirectory("oversize")
        let guest = Fixtures.guestScript(#"""
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            head -c 5000 /dev/zero > "$1/five.bin"
            code=$(curl -s -o /dev/null -w '%{http_code}' -T "$1/five.bin" "$SUPPORT_HOST_URL/r.bin" || true)
            test "$code" = 413
            """#)
        let scratch = Fixtures.temporaryDirectory("oversize")
        let host = try await HostProcess.run([
            "run", "--optional-result", "/r.bin", "--max-result-size", "1000", "--run-dir", runDir.path, "--", guest, scratch.path,
        ])
        #expect(host.status == 0, "\(host.stderr)\n\(RunFiles(url: runDir).console)")
        #expect(Fixtures.files(in: runDir.appendingPathComponent("results")) == [])
        #expect(try RunFiles(url: runDir).report["requests"]?["by_status"]?["413"] == 1)
    }

    @Test func streamedBodyOverTheLimitIs413AndItsPartialFileIsRemoved() async throws {
        let runDir = Fixtures.runDirectory("oversize-stream")
        // From a pipe, curl sends the body chunked: no Content-Length, the limit hits mid-stream.
        let guest = Fixtures.guestScript(#"""
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            code=$(head -c 3000000 /dev/zero | curl -s -o /dev/null -w '%{http_code}' -T - "$SUPPORT_HOST_URL/r.bin" || true)
            echo "status $code"
            """#)
        let host = try await HostProcess.run([
            "run", "--optional-result", "/r.bin", "--max-result-size", "100000", "--run-dir", runDir.path, "--", guest,
        ])
        let files = RunFiles(url: runDir)
        #expect(host.status == 0, "\(host.stderr)\n\(files.console)")
        #expect(Fixtures.files(in: runDir.appendingPathComponent("results")) == [], "no result and no .partial-* file")
        #expect(try files.report["requests"]?["by_status"]?["413"] == 1)
        #expect(files.journalText.contains(#""kind":"result-incomplete""#))
        #expect(try files.report["results"]?.arrayValue == [])
    }

    @Test(.enabled(if: Needs.curlAndPython, Needs.curlAndPythonHint))
    func droppedConnectionMidUploadLeavesNoResultOnlyAJournalRecord() async throws {
        let runDir = Fixtures.runDirectory("dropped")
        let scratch = Fixtures.temporaryDirectory("dropped")
        // A raw client: announces 1000 bytes, sends 10, hangs up.
        let guest = Fixtures.guestScript(#"""
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            python3 -c 'import socket, sys
            s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
            s.sendall(b"PUT /t/%s/r.bin HTTP/1.1\r\nHost: guest\r\nContent-Length: 1000\r\n\r\n0123456789" % sys.argv[3].encode())
            s.close()' "$SUPPORT_HOST_HOST" "$SUPPORT_HOST_PORT" "$SUPPORT_HOST_TOKEN"
            while [ ! -f "$1/go" ]; do sleep 0.05; done
            """#)
        let host = try HostProcess(["run", "--optional-result", "/r.bin", "--run-dir", runDir.path, "--", guest, scratch.path])
        let files = RunFiles(url: runDir)
        let recorded = await Fixtures.eventually(timeout: 30) { files.journalText.contains(#""kind":"result-incomplete""#) }
        _ = FileManager.default.createFile(atPath: scratch.appendingPathComponent("go").path, contents: nil)
        let status = await host.wait()
        #expect(recorded, "no result-incomplete record:\n\(files.journalText)")
        #expect(status == 0, "\(host.stderr)\n\(files.console)")
        #expect(Fixtures.files(in: runDir.appendingPathComponent("results")) == [])
        #expect(try files.report["results"]?.arrayValue == [])
        #expect(files.journalText.contains("after 10 bytes") || files.journalText.contains("shorter than its Content-Length"))
    }

    @Test func putToAnUnconfiguredPathIs404AndStoresNothing() async throws {
        let runDir = Fixtures.runDirectory("unconfigured")
        let guest = Fixtures.guestScript(#"""
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            test "$(echo x | curl -s -o /dev/null -w '%{http_code}' -T - "$SUPPORT_HOST_URL/other.txt")" = 404
            """#)
        let host = try await HostProcess.run(["run", "--optional-result", "/r.txt", "--run-dir", runDir.path, "--", guest])
        let files = RunFiles(url: runDir)
        #expect(host.status == 0, "\(host.stderr)\n\(files.console)")
        #expect(Fixtures.files(in: runDir.appendingPathComponent("results")) == [])
        #expect(files.journalText.contains(#""method":"PUT","path":"/other.txt""#) || files.journalText.contains(#""path":"/other.txt""#))
        #expect(try files.report["requests"]?["by_status"]?["404"] == 1)
    }

    @Test func traversalInAConfiguredPathGetsASafeNameInsideResults() async throws {
        let base = Fixtures.temporaryDirectory("traversal")
        let runDir = base.appendingPathComponent("a/b/run")
        try FileManager.default.createDirectory(at: runDir.deletingLastPathComponent(), withIntermediateDirectories: true)
        let guest = Fixtures.guestScript(#"""
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            echo escaped | curl -fsS --path-as-is -T - "$SUPPORT_HOST_URL/../../x" >/dev/null
            """#)
        let host = try await HostProcess.run(["run", "--result", "/../../x", "--run-dir", runDir.path, "--", guest])
        #expect(host.status == 0, "\(host.stderr)\n\(RunFiles(url: runDir).console)")
        let stored = Fixtures.files(in: runDir.appendingPathComponent("results"))
        #expect(stored.count == 1)
        #expect(stored.first.map { !$0.hasPrefix(".") && !$0.contains("/") } == true, "\(stored)")
        #expect(!FileManager.default.fileExists(atPath: base.appendingPathComponent("a/x").path))
        #expect(!FileManager.default.fileExists(atPath: runDir.appendingPathComponent("../../x").standardized.path))
        let result = try RunFiles(url: runDir).report["results"]?.arrayValue?.first
        #expect(result?["file"]?.stringValue == "results/" + (stored.first ?? "?"))
        #expect(result?["path"] == "/../../x")
    }
}
