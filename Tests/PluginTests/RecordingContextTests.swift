import Foundation
import PluginAPI
import PluginTesting
import Synchronization
import Testing

/// PluginTesting itself: what the recording context keeps, and the contract's conveniences.
struct RecordingContextTests {
    /// A plug-in that uses the rest of the context: settings, logger, clock, activity, finish/fail.
    final class Probe: Plugin {
        static let name = "Probe"
        static let summary = "test probe"
        static let hooks: Set<Hook> = [.import]
        static let namespaceSummary = "/probe"
        let context: any HostContext
        let limit: Double
        let phases = Mutex<[RunPhase]>([])

        init(context: any HostContext) throws {
            self.context = context
            try context.settings.allowOnly(["limit"])
            limit = try context.settings.double("limit") ?? 1
        }

        var namespaces: [Namespace] { [.prefix("/probe")] }

        func importData(_ request: GuestRequest, body: RequestBody) async throws -> Reply {
            context.countsAsActivity()
            context.logger.info("at \(context.elapsed)")
            switch request.subpath {
            case "/done": context.finish(reason: "all done")
            case "/fail": context.fail(reason: "broken")
            default: break
            }
            return .text(200, "ok")
        }

        func runPhaseChanged(_ phase: RunPhase) { phases.withLock { $0.append(phase) } }
    }

    @Test func settingsFromTextAreTyped() throws {
        let tester = try PluginTester(Probe.self, settings: ["limit": "2.5"])
        defer { tester.context.removeRunDirectory() }
        #expect(tester.plugin.limit == 2.5)
    }

    @Test func aBadSettingIsAPluginErrorNamingTheKey() throws {
        #expect(throws: PluginError.badSetting(key: "limit", value: "soon", reason: "must be a number")) {
            _ = try PluginTester(Probe.self, settings: ["limit": "soon"])
        }
        #expect(throws: PluginError.unknownSetting(key: "limt")) {
            _ = try PluginTester(Probe.self, settings: ["limt": "1"])
        }
    }

    @Test func finishFailActivityAndLogsAreRecorded() async throws {
        let tester = try PluginTester(Probe.self)
        defer { tester.context.removeRunDirectory() }
        tester.context.advanceClock(by: 3)
        _ = try await tester.put("/probe/x", body: Data())
        #expect(tester.context.activityCount == 1)
        #expect(tester.context.logLines == ["info at 3.0"])
        #expect(tester.context.runEnd == nil)
        _ = try await tester.put("/probe/fail", body: Data())
        #expect(tester.context.runEnd?.failed == true)
        #expect(tester.context.runEnd?.reason == "broken")
        _ = try await tester.put("/probe/done", body: Data())
        #expect(tester.context.runEnd?.failed == false)
    }

    @Test func lifecycleHookIsCalledByTheHostOrTheTest() throws {
        let tester = try PluginTester(Probe.self)
        defer { tester.context.removeRunDirectory() }
        tester.plugin.runPhaseChanged(.stopping(cause: "total-timeout"))
        #expect(tester.plugin.phases.withLock { $0 } == [.stopping(cause: "total-timeout")])
    }

    @Test func bodiesArriveInChunks() async throws {
        let body = PluginTester<Probe>.body(Data(repeating: 7, count: 10), chunkSize: 4)
        var sizes: [Int] = []
        for try await chunk in body { sizes.append(chunk.count) }
        #expect(sizes == [4, 4, 2])
    }
}
