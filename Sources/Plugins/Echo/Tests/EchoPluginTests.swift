import Foundation
import PluginAPI
import PluginTesting
import SupportHostEcho
import Testing

/// Echo, tested with PluginTesting alone: the example of docs/writing-a-plugin.md.
struct EchoPluginTests {
    @Test func aBodyComesBackAndIsCounted() async throws {
        let tester = try PluginTester(EchoPlugin.self)
        defer { tester.context.removeRunDirectory() }
        let reply = try await tester.put("/echo/greeting", body: Data("hello".utf8))
        #expect(reply.status == 200)
        guard case .bytes(let body) = reply.body else { Issue.record("no body"); return }
        #expect(body == Data("hello".utf8))
        #expect(tester.context.records.map(\.kind) == ["echoed"])
        #expect(tester.context.records.first?.fields["bytes"] == 5)
        #expect(tester.context.activityCount == 1)
        #expect(try tester.replayed().report()["echoes"] == 1)
    }

    @Test func aBodyOverTheLimitIs413() async throws {
        let tester = try PluginTester(EchoPlugin.self, settings: ["max_bytes": "4"])
        defer { tester.context.removeRunDirectory() }
        let error = await #expect(throws: GuestError.self) { try await tester.put("/echo/big", body: Data("hello".utf8)) }
        #expect(error?.status == 413)
        #expect(tester.context.records.isEmpty)
    }

    @Test func aNameIsNeeded() async throws {
        let tester = try PluginTester(EchoPlugin.self)
        defer { tester.context.removeRunDirectory() }
        let error = await #expect(throws: GuestError.self) { try await tester.put("/echo", body: Data()) }
        #expect(error?.status == 404)
    }

    @Test func aBadSettingNamesItsKey() {
        #expect(throws: PluginError.badSetting(key: "max_bytes", value: "0", reason: "must be 1 to 1048576")) {
            _ = try PluginTester(EchoPlugin.self, settings: ["max_bytes": "0"])
        }
        #expect(throws: PluginError.unknownSetting(key: "max_byte")) {
            _ = try PluginTester(EchoPlugin.self, settings: ["max_byte": "10"])
        }
    }
}
