import Foundation
import PluginAPI
import Testing

/// Resumable uploads (Beaker style): `PUT` with `Content-Range` pieces in any order, `HEAD`
/// on the path, and inconsistent pieces refused.
@Suite(.enabled(if: Needs.curl, Needs.curlHint))
struct ResumableUploadTests {
    /// A guest function that sends blocks FIRST..LAST (4 KiB blocks) of `$1/f.bin` as one piece
    /// and checks the answer's status.
    static let pieceFunction = #"""
        piece() { # first-block block-count total expected-status
            dd if="$1/f.bin" bs=4096 skip="$2" count="$3" 2>/dev/null > "$1/p.bin"
            first=$(($2 * 4096)); last=$(( ($2 + $3) * 4096 - 1 ))
            code=$(curl -s -o "$1/answer" -w '%{http_code}' -T "$1/p.bin" -H "Content-Range: bytes $first-$last/$4" "$SUPPORT_HOST_URL/log.bin")
            cat "$1/answer"; echo " → $code"
            test "$code" = "$5"
        }
        """#

    @Test func fivePiecesOutOfOrderAssembleTheFileWithAHeadInTheMiddle() async throws {
        let runDir = Fixtures.runDirectory("pieces")
        let scratch = Fixtures.temporaryDirectory("pieces")
        let guest = Fixtures.guestScript(Self.pieceFunction + "\n" + #"""
            set -- "$1"
            dd if=/dev/urandom of="$1/f.bin" bs=4096 count=250 2>/dev/null
            sha256sum "$1/f.bin" | cut -d' ' -f1 > "$1/f.sha256"
            total=1024000
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            test "$(curl -s -o /dev/null -w '%{http_code}' -I "$SUPPORT_HOST_URL/log.bin")" = 404
            piece "$1" 150 50 $total 202
            piece "$1" 0 50 $total 202
            curl -s -I "$SUPPORT_HOST_URL/log.bin" | tr -d '\r' > "$1/head"
            piece "$1" 200 50 $total 202
            piece "$1" 50 50 $total 202
            piece "$1" 100 50 $total 201
            test "$(curl -s -o /dev/null -w '%{http_code}' -I "$SUPPORT_HOST_URL/log.bin")" = 200
            """#)
        let host = try await HostProcess.run(["run", "--result", "/log.bin", "--run-dir", runDir.path, "--", guest, scratch.path])
        let files = RunFiles(url: runDir)
        #expect(host.status == 0, "\(host.stderr)\n\(files.console)")
        let head = try String(contentsOf: scratch.appendingPathComponent("head"), encoding: .utf8)
        #expect(head.hasPrefix("HTTP/1.1 206"), "\(head)")
        #expect(head.contains("X-Received-Ranges: 0-204799,614400-819199"), "\(head)")
        #expect(head.contains("X-Total-Length: 1024000"))
        let expected = try String(contentsOf: scratch.appendingPathComponent("f.sha256"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let result = try files.report["results"]?.arrayValue?.first
        #expect(result?["sha256"] == .string(expected))
        #expect(result?["size"] == 1_024_000)
        #expect(result?["pieces"] == 5)
        #expect(Fixtures.sha256(files.result("log.bin") ?? Data()) == expected)
        #expect(Fixtures.files(in: runDir.appendingPathComponent("results")) == ["log.bin"], "no partial file left")
        #expect(files.journalText.components(separatedBy: #""kind":"piece-stored""#).count - 1 == 5)
    }

    @Test func inconsistentPiecesAreConflicts409AndChangeNothing() async throws {
        let runDir = Fixtures.runDirectory("pieces-conflict")
        let scratch = Fixtures.temporaryDirectory("pieces-conflict")
        let guest = Fixtures.guestScript(Self.pieceFunction + "\n" + #"""
            set -- "$1"
            dd if=/dev/urandom of="$1/f.bin" bs=4096 count=10 2>/dev/null
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            piece "$1" 0 2 40960 202
            piece "$1" 0 2 40960 202
            piece "$1" 0 2 99999 409
            dd if=/dev/urandom of="$1/f.bin" bs=4096 count=10 2>/dev/null
            piece "$1" 1 2 40960 409
            curl -s -I "$SUPPORT_HOST_URL/log.bin" | tr -d '\r' > "$1/head"
            """#)
        let host = try await HostProcess.run(["run", "--optional-result", "/log.bin", "--run-dir", runDir.path, "--", guest, scratch.path])
        let files = RunFiles(url: runDir)
        #expect(host.status == 0, "\(host.stderr)\n\(files.console)")
        let head = try String(contentsOf: scratch.appendingPathComponent("head"), encoding: .utf8)
        #expect(head.contains("X-Received-Ranges: 0-8191"), "the refused pieces added nothing: \(head)")
        let report = try files.report
        #expect(report["requests"]?["by_status"]?["409"] == 2)
        #expect(report["results"]?.arrayValue == [])
        let upload = report["incomplete_uploads"]?.arrayValue?.first
        #expect(upload?["received"] == "0-8191")
        #expect(upload?["total"] == 40960)
        #expect(files.journalText.components(separatedBy: #""kind":"result-conflict""#).count - 1 == 2)
        try FileManager.default.removeItem(at: runDir.appendingPathComponent("report.json"))
        let recovered = try await HostProcess.run(["recover", runDir.path])
        #expect(recovered.status == 0, "\(recovered.stderr)")
        #expect(try files.report["incomplete_uploads"] == report["incomplete_uploads"], "the received ranges come back from the journal")
    }
}
