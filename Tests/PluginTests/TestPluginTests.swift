import Foundation
import PluginAPI
import PluginTesting
import SupportHostTest
import Testing

/// The Test plug-in (result capture) through PluginTesting, recovery included.
struct TestPluginTests {
    static let configuration = RunConfiguration(results: [ResultPath(path: "/result.txt", required: true)])

    @Test func aResultIsStoredDurablyAndTheRunTold() async throws {
        let tester = try PluginTester(TestPlugin.self, configuration: Self.configuration)
        defer { tester.context.removeRunDirectory() }
        let reply = try await tester.put("/result.txt", body: Data("all good\n".utf8))
        #expect(reply.status == 201)
        #expect(tester.context.events == [.resultStored(path: "/result.txt")])
        let record = try #require(tester.context.records.first { $0.kind == "result-stored" })
        #expect(record.durable)
        let file = try #require(record.fields["file"]?.stringValue)
        #expect(try Data(contentsOf: tester.context.runDirectory.appendingPathComponent(file)) == Data("all good\n".utf8))
    }

    @Test func anIdenticalRepeatIs200() async throws {
        let tester = try PluginTester(TestPlugin.self, configuration: Self.configuration)
        defer { tester.context.removeRunDirectory() }
        _ = try await tester.put("/result.txt", body: Data("same".utf8))
        let again = try await tester.put("/result.txt", body: Data("same".utf8))
        #expect(again.status == 200)
    }

    @Test func headTellsWhatArrived() async throws {
        let tester = try PluginTester(TestPlugin.self, configuration: Self.configuration)
        defer { tester.context.removeRunDirectory() }
        #expect(try tester.head("/result.txt").status == 404)
        _ = try await tester.put("/result.txt", body: Data("x".utf8))
        #expect(try tester.head("/result.txt").status == 200)
    }

    @Test func recoveryRestoresALostSmallResultFromItsRecord() async throws {
        let tester = try PluginTester(TestPlugin.self, configuration: Self.configuration)
        defer { tester.context.removeRunDirectory() }
        _ = try await tester.put("/result.txt", body: Data("keep me\n".utf8))
        let file = try #require(tester.context.records.first { $0.kind == "result-stored" }?.fields["file"]?.stringValue)
        let url = tester.context.runDirectory.appendingPathComponent(file)
        try Data().write(to: url)  // a machine crash left it empty
        let sections = try tester.recoveredFiles()
        let result = try #require(sections["results"]?.arrayValue?.first)
        #expect(result["verified"] == true)
        #expect(result["restored_from_journal"] == true)
        #expect(try Data(contentsOf: url) == Data("keep me\n".utf8))
    }

    @Test func recoveryRemovesUnacknowledgedTemporaryFiles() async throws {
        let tester = try PluginTester(TestPlugin.self, configuration: Self.configuration)
        defer { tester.context.removeRunDirectory() }
        let results = tester.context.resultsDirectory
        try Data("torn".utf8).write(to: results.appendingPathComponent(".partial-1234"))
        try Data("pieces".utf8).write(to: results.appendingPathComponent(".partial-x.pieces"))
        let sections = try tester.recoveredFiles()
        #expect(sections["removed_incomplete_uploads"] == [".partial-1234"])
        #expect(FileManager.default.fileExists(atPath: results.appendingPathComponent(".partial-x.pieces").path))
    }

    @Test func aPathNotConfiguredIsNotTheTestPlugins() throws {
        let tester = try PluginTester(TestPlugin.self, configuration: Self.configuration)
        defer { tester.context.removeRunDirectory() }
        #expect(tester.plugin.namespaces == [.exact("/result.txt")])
    }
}
