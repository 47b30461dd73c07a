import Foundation
import PluginAPI
import PluginTesting
import SupportHostPing
import Testing

/// The Ping plug-in through PluginTesting: no server, no socket.
struct PingPluginTests {
    @Test func pingAnswersAndTellsTheRun() throws {
        let tester = try PluginTester(PingPlugin.self)
        defer { tester.context.removeRunDirectory() }
        let reply = try tester.get("/", headers: [("X-Boot-Id", "boot-1")])
        #expect(reply.status == 200)
        #expect(tester.context.events == [.guestPinged(bootID: "boot-1")])
        #expect(tester.context.records.map(\.kind) == ["ping"])
        #expect(tester.context.records.first?.fields["boot_id"] == "boot-1")
    }

    @Test func reportCountsPingsFromTheJournal() throws {
        let tester = try PluginTester(PingPlugin.self)
        defer { tester.context.removeRunDirectory() }
        _ = try tester.get("/")
        tester.context.advanceClock(by: 2.5)
        _ = try tester.get("/")
        let report = try tester.replayed().report()
        #expect(report["pinged"] == true)
        #expect(report["pings"] == 2)
        #expect(report["first_ping"] == .double(0))
    }

    @Test func onlyTheRootIsPing() throws {
        let tester = try PluginTester(PingPlugin.self)
        defer { tester.context.removeRunDirectory() }
        #expect(throws: GuestError.self) { try tester.get("/other") }
    }
}
