import Foundation
import PluginAPI
import Testing

extension QemuSuites {
    /// A run of a qemu guest and a local one given by kind: the VM gets its own injector (its
    /// own token in `server_uri`) and, with `private_network`, a second NIC on the run's netdev and
    /// the kernel arguments with which its `/init` configures it.
    @Suite(.serialized, .enabled(if: Needs.qemu, Needs.qemuHint))
    struct QemuSeveralGuestsTests {
        @Test func aQemuGuestAndALocalOneGivenByKindBothPing() async throws {
            let runDir = Fixtures.runDirectory("qemu-several")
            let job = try SeveralGuestsTests.jobFile(
                [["name": "vm", "guest": "qemu:x86_64", "verb": "ping"], ["name": "proc", "guest": "local", "verb": "ping"]],
                ["private_network": true, "startup_timeout": 120])
            let host = try await HostProcess.run(["run", "--job", job, "--run-dir", runDir.path], timeout: 200)
            #expect(host.status == 0, "\(host.stderr)")
            let report = try RunFiles(url: runDir).report
            #expect(report["outcome"] == "completed")
            let vm = try String(contentsOf: runDir.appendingPathComponent("console-vm.log"), encoding: .utf8)
            #expect(vm.contains("Linux version "))
            let launching = SeveralGuestsTests.records(runDir, kind: "guest-launching")
                .first { $0["fields"]?["guest"] == "vm" }?["fields"]?["argv"]?.arrayValue?.compactMap(\.stringValue) ?? []
            let network = try #require(SeveralGuestsTests.records(runDir, kind: "private-network").first?["fields"])
            #expect(launching.contains(network["netdev"]?.stringValue ?? "?"), "the VM's second NIC is on the run's netdev")
            #expect(launching.contains { $0.contains("mac=52:54:00:10:03:0b") }, "guest 1 is 10.0.3.11")
            #expect(launching.contains { $0.contains("support_host.private_address=10.0.3.11/24 support_host.private_mac=52:54:00:10:03:0b") },
                "and its kernel is told so")
            #expect(vm.contains("init: private network: eth1 10.0.3.11/24 (52:54:00:10:03:0b)"), "/init configured eth1")
            #expect(network["addresses"]?["proc"] == "10.0.3.12")
        }
    }
}
