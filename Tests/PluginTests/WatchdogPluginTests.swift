import Foundation
import PluginAPI
import PluginTesting
import SupportHostWatchdog
import Testing

/// The Watchdog plug-in through PluginTesting: the host's answer to `ask` is the test's.
struct WatchdogPluginTests {
    @Test func postAsksTheHostForMoreTime() async throws {
        let tester = try PluginTester(WatchdogPlugin.self) { request in
            guard case .extendDeadline(let seconds) = request else { return .null }
            return ["granted": .double(seconds)]
        }
        defer { tester.context.removeRunDirectory() }
        let reply = try await tester.post("/watchdog", body: Data(#"{"seconds": 60}"#.utf8))
        #expect(reply.status == 200)
        #expect(tester.context.asked == [.extendDeadline(seconds: 60)])
        #expect(tester.context.records.map(\.kind) == ["extended"])
        #expect(try tester.replayed().report()["watchdog_extensions"]?.arrayValue?.count == 1)
    }

    @Test func plainTextSecondsWork() async throws {
        let tester = try PluginTester(WatchdogPlugin.self) { _ in ["granted": 30] }
        defer { tester.context.removeRunDirectory() }
        _ = try await tester.post("/watchdog", body: Data("30\n".utf8))
        #expect(tester.context.asked == [.extendDeadline(seconds: 30)])
    }

    @Test func aRefusalFromTheHostReachesTheGuest() async throws {
        let tester = try PluginTester(WatchdogPlugin.self) { _ in throw GuestError(403, "over the cap") }
        defer { tester.context.removeRunDirectory() }
        await #expect(throws: GuestError.self) { try await tester.post("/watchdog", body: Data("30".utf8)) }
        #expect(tester.context.records.isEmpty)
    }

    @Test func aBodyThatIsNoNumberIsRefused() async throws {
        let tester = try PluginTester(WatchdogPlugin.self)
        defer { tester.context.removeRunDirectory() }
        let error = await #expect(throws: GuestError.self) { try await tester.post("/watchdog", body: Data("soon".utf8)) }
        #expect(error?.status == 400)
        #expect(tester.context.asked.isEmpty)
    }
}
