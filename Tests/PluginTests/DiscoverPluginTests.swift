import Foundation
import PluginAPI
import PluginTesting
import SupportHostDiscover
import Testing

/// The Discover plug-in through PluginTesting.
struct DiscoverPluginTests {
    static let platform = Data(#"{"scheme": "perl5", "path": "/usr/bin/perl", "env": {"PATH": "/usr/bin"}, "config": {"version": "5.36.0"}}"#.utf8)

    @Test func aPlatformIsRecordedDurablyAndAnsweredWithItsHash() async throws {
        let tester = try PluginTester(DiscoverPlugin.self)
        defer { tester.context.removeRunDirectory() }
        let reply = try await tester.put("/discover/perl5", body: Self.platform, headers: [("Content-Type", "application/json")])
        #expect(reply.status == 201)
        let record = try #require(tester.context.records.first)
        #expect(record.kind == "platform")
        #expect(record.durable)
        #expect(record.fields["scheme"] == "perl5")
        guard case .bytes(let body) = reply.body else { Issue.record("no body"); return }
        #expect(try JSONValue.decode(body)["hash"] == record.fields["hash"])
    }

    @Test func theReportListsPlatformsFromTheJournal() async throws {
        let tester = try PluginTester(DiscoverPlugin.self)
        defer { tester.context.removeRunDirectory() }
        _ = try await tester.put("/discover/perl5", body: Self.platform)
        let platforms = try tester.replayed().report()["platforms"]?.arrayValue
        #expect(platforms?.count == 1)
    }

    @Test func aPlatformWithoutAPathIsRefused() async throws {
        let tester = try PluginTester(DiscoverPlugin.self)
        defer { tester.context.removeRunDirectory() }
        let error = await #expect(throws: GuestError.self) {
            try await tester.put("/discover/x", body: Data(#"{"scheme": "perl5"}"#.utf8))
        }
        #expect(error?.status == 422)
        #expect(tester.context.records.isEmpty)
    }
}
