import Foundation
import PluginAPI
import Testing

extension QemuSuites {
    /// The job of `docs/examples/two-vms` (shown in docs/multi-guest.md), run as a user runs it:
    /// two x86_64 VMs on the run's private network, a server that serves a random tag with busybox
    /// httpd and a client that waits for it at a barrier (the sync helpers inside the VMs) and
    /// fetches the tag from 10.0.3.11; both upload their TAP as results.
    @Suite(.serialized, .enabled(if: Needs.qemu, Needs.qemuHint))
    struct QemuServerClientTests {
        @Test func aClientVMFetchesWhatTheServerVMServesAfterTheBarrier() async throws {
            let example = Fixtures.packageRoot.appendingPathComponent("docs/examples/two-vms")
            // The job names its scripts relative to where it is run; a copy keeps the tree clean.
            let work = Fixtures.temporaryDirectory("two-vms")
            for file in ["job.json", "server.t", "client.t"] {
                try FileManager.default.copyItem(at: example.appendingPathComponent(file), to: work.appendingPathComponent(file))
            }
            let runDir = Fixtures.runDirectory("two-vms")
            let began = Date()
            let host = try HostProcess(["run", "--job", "job.json", "--run-dir", runDir.path], directory: work)
            let status = await host.wait(timeout: 960)
            Fixtures.note(String(format: "two x86_64 VMs, server and client: %.1f s", Date().timeIntervalSince(began)))
            defer { SeveralGuestsTests.killGuests(runDir) }
            let files = RunFiles(url: runDir)
            func console(_ name: String) -> String {
                ((try? String(contentsOf: runDir.appendingPathComponent("console-\(name).log"), encoding: .utf8)) ?? "").suffix(3000).description
            }
            let context = "exit \(status)\n\(host.stderr)\nserver console:\n\(console("server"))\nclient console:\n\(console("client"))"
            #expect(status == 0, "\(context)")
            #expect(try files.report["outcome"] == "completed", "\(context)")

            let server = String(decoding: try #require(files.result("server/1"), "\(context)"), as: UTF8.self)
            let client = String(decoding: try #require(files.result("client/1"), "\(context)"), as: UTF8.self)
            for (name, result) in [("server", server), ("client", client)] {
                #expect(result.contains("ok 3 - ") && !result.contains("not ok"), "\(name)'s result: \(result.suffix(2000))")
            }
            let served = try #require(server.firstRange(of: "# serving: tag ").map { server[$0.upperBound...].prefix(36) }, "\(server.suffix(2000))")
            #expect(served.count == 36)
            #expect(client.contains("ok 2 - fetched from 10.0.3.11: tag \(served)"), "the client got the server's tag: \(client.suffix(2000))")

            let released = SeveralGuestsTests.records(runDir, kind: "barrier-released").compactMap { $0["fields"]?["barrier"]?.stringValue }
            #expect(released == ["serving", "fetched"])
            #expect(console("server").contains("init: private network: eth1 10.0.3.11/24"))
            #expect(console("client").contains("init: private network: eth1 10.0.3.12/24"))
        }
    }
}
