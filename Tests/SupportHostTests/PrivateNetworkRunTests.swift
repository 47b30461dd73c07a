import Foundation
import PluginAPI
import Testing

@testable import SupportHost

#if canImport(Glibc)
import Glibc
#endif

/// `private_network: true` in a real run, with process guests: each guest's placeholders and
/// environment are its place on the run's `PrivateNetwork`, whose port the host holds while
/// the guests run, gives up when it dies, and takes again when it takes the run over.
@Suite struct PrivateNetworkRunTests {
    @Test func guestsGetTheirPlaceOnTheReservedNetworkAndAResumedHostHoldsItsPortAgain() async throws {
        let runDir = Fixtures.runDirectory("privnet-run")
        let work = Fixtures.temporaryDirectory("privnet-run-work")
        let script = Fixtures.guestScript(#"""
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            touch "$1/$SUPPORT_HOST_GUEST-up"
            i=0
            while [ ! -e "$1/go" ] && [ $i -lt 900 ]; do sleep 0.1; i=$((i+1)); done
            shift
            printf '%s\n' "$@" "$SUPPORT_HOST_PRIVATE_ADDRESS" | curl -fsS --retry 30 --retry-connrefused --retry-delay 1 -T - "$SUPPORT_HOST_URL/result.txt" >/dev/null
            """#)
        let placeholders = ["{private_netdev}", "{private_mac}", "{private_kernel_args}", "{private_address}"]
        let job = try SeveralGuestsTests.jobFile(
            [SeveralGuestsTests.guest("a", script, [work.path] + placeholders), SeveralGuestsTests.guest("b", script, [work.path] + placeholders)],
            ["results": ["/result.txt"], "private_network": true])
        let first = try HostProcess(["run", "--job", job, "--run-dir", runDir.path])
        defer { SeveralGuestsTests.killGuests(runDir) }
        #expect(await Fixtures.eventually(timeout: 30) {
            ["a", "b"].allSatisfy { FileManager.default.fileExists(atPath: work.appendingPathComponent("\($0)-up").path) }
        })
        #expect(await Fixtures.eventually(timeout: 30) { SeveralGuestsTests.records(runDir, kind: "guest-launched").count == 2 })
        let record = try #require(SeveralGuestsTests.records(runDir, kind: "private-network").first?["fields"])
        let port = Int(try #require(record["port"]?.intValue))
        #expect(PrivateNetworkTests.bindsLoopback(port: port) == EADDRINUSE, "the running host holds its network's port")

        kill(first.pid, SIGKILL)
        _ = await first.wait()
        #expect(PrivateNetworkTests.bindsLoopback(port: port) == 0, "gone with the host (the guests do not inherit it)")
        let second = try HostProcess(["run", "--resume", runDir.path])
        #expect(await Fixtures.eventually(timeout: 30) {
            RunFiles(url: runDir).journalText.components(separatedBy: #""kind":"listening""#).count == 3
        }, "\(second.stderr)")
        #expect(PrivateNetworkTests.bindsLoopback(port: port) == EADDRINUSE, "the host that took the run over holds the recorded port")
        _ = FileManager.default.createFile(atPath: work.appendingPathComponent("go").path, contents: nil)
        let status = await second.wait()
        #expect(status == 0, "\(second.stderr)\n\(second.stdout)")
        #expect(try RunFiles(url: runDir).report["outcome"] == "completed")
        #expect(PrivateNetworkTests.bindsLoopback(port: port) == 0, "released once every guest has exited")

        let network = PrivateNetwork(port: port)
        #expect(record["netdev"]?.stringValue == network.netdev)
        for (number, name) in ["a", "b"].enumerated() {
            let member = try network.member(number + 1, of: 2)
            let got = String(decoding: RunFiles(url: runDir).result("\(name)/result.txt") ?? Data(), as: UTF8.self)
            #expect(got == [member.nic.netdev, member.mac, member.kernelArguments, member.address, member.address].joined(separator: "\n") + "\n")
            #expect(record["addresses"]?[name]?.stringValue == member.address)
            #expect(record["macs"]?[name]?.stringValue == member.mac)
        }
    }

    @Test func aJobOfMoreGuestsThanTheNetworkHoldsIsRefused() throws {
        let guests = (0...PrivateNetwork.maximumGuests).map { JSONValue.object(["name": .string("g\($0)"), "command": "true"]) }
        var settings = try JobSettings.parse(JSONValue.object(["guests": .array(guests), "private_network": true]).encoded(pretty: false))
        do {
            _ = try Job(settings)
            Issue.record("a job of \(guests.count) guests on a private network was accepted")
        } catch {
            #expect("\(error)".contains("private_network"), "\(error)")
        }
        settings.privateNetwork = false
        _ = try Job(settings)
    }

    /// docs/multi-guest.md shows the example's job file as it is (the qemu suites run it:
    /// `QemuServerClientTests`).
    @Test func theDocsShowTheTwoVMJobAsItIs() throws {
        let job = try String(contentsOf: Fixtures.packageRoot.appendingPathComponent("docs/examples/two-vms/job.json"), encoding: .utf8)
        let docs = try String(contentsOf: Fixtures.packageRoot.appendingPathComponent("docs/multi-guest.md"), encoding: .utf8)
        #expect(docs.contains("```json\n" + job + "```\n"))
        _ = try JobSettings.parse(Data(job.utf8))
    }
}
