import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `scripts/test-sync-helpers` in `swift test`: every helper of guest/sync-helpers.sh against a
/// real host, through curl, perl's HTTP::Tiny and busybox ash (each skipped, saying so, when
/// missing), and a helper's retry across a host taken over. `SyncGuestsTests` covers barriers,
/// mutexes, events and waits between several guests, not `sync-set`, `sync-block`,
/// `sync-whoami`, the perl transport or ash; the script does.
@Suite(.enabled(if: Needs.curl, Needs.curlHint))
struct SyncHelpersScriptTests {
    @Test func everySyncHelperWorksAgainstARealHost() async throws {
        let script = Fixtures.packageRoot.appendingPathComponent("scripts/test-sync-helpers")
        let output = Fixtures.temporaryDirectory("sync-helpers").appendingPathComponent("output")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = [script.path, HostProcess.executable.path]
        process.environment = Fixtures.scratchEnvironment()
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let finished = await Fixtures.eventually(timeout: 300) { !process.isRunning }
        if !finished { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        #expect(finished, "scripts/test-sync-helpers did not end within 300 s:\n\(text)")
        #expect(process.terminationStatus == 0, "scripts/test-sync-helpers failed:\n\(text)")
        #expect(text.contains("sync helpers: all passed"), "\(text)")
        Fixtures.note(text)
    }
}
