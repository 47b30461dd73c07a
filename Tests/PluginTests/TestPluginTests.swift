import Foundation
import PluginAPI
import PluginTesting
import SupportHostTest
import Synchronization
import Testing

/// The Test plug-in (result capture) through PluginTesting, recovery included.
struct TestPluginTests {
    static let configuration = RunConfiguration(results: [ResultPath(path: "/result.txt", required: true)])

    @Test func aResultIsStoredDurablyAndTheRunTold() async throws {
        let tester = try PluginTester(TestPlugin.self, configuration: Self.configuration)
        defer { tester.context.removeRunDirectory() }
        let reply = try await tester.put("/result.txt", body: Data("all good\n".utf8))
        #expect(reply.status == 201)
        #expect(tester.context.events == [
            .resultStored(
                path: "/result.txt", file: "results/result.txt", size: 9,
                sha256: "8a87c7c88bb013c74959ab4aee7e5f01a9d843bdf7d1a3a8fb517f8d872e127a"),
        ])
        let record = try #require(tester.context.records.first { $0.kind == "result-stored" })
        #expect(record.durable)
        let file = try #require(record.fields["file"]?.stringValue)
        await tester.finishFiles()
        #expect(try Data(contentsOf: tester.context.runDirectory.appendingPathComponent(file)) == Data("all good\n".utf8))
    }

    /// No bytes held in memory (`deferred_file_bytes` 0): a small result's file is written at
    /// the run's end only, from its journal record.
    static let nothingHeld = RunConfiguration(
        results: [ResultPath(path: "/result.txt", required: true), ResultPath(path: "/other.txt", required: false)],
        settings: ["Test": .object(["deferred_file_bytes": .int(0)])])

    @Test func aSmallResultsFileWaitsForTheRunsEndWhenNoBytesAreHeld() async throws {
        let tester = try PluginTester(TestPlugin.self, configuration: Self.nothingHeld)
        defer { tester.context.removeRunDirectory() }
        #expect(try await tester.put("/result.txt", body: Data("from the journal\n".utf8)).status == 201)
        let url = tester.context.resultsDirectory.appendingPathComponent("result.txt")
        try await Task.sleep(for: .milliseconds(400))  // past the quiet period: nothing to write
        #expect(!FileManager.default.fileExists(atPath: url.path))
        await tester.finishFiles()
        #expect(try Data(contentsOf: url) == Data("from the journal\n".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: tester.context.resultsDirectory.path) == ["result.txt"])
    }

    @Test func heldSmallResultsAreWrittenOnceUploadsPause() async throws {
        let tester = try PluginTester(TestPlugin.self, configuration: Self.configuration)
        defer { tester.context.removeRunDirectory() }
        #expect(try await tester.put("/result.txt", body: Data("soon\n".utf8)).status == 201)
        let url = tester.context.resultsDirectory.appendingPathComponent("result.txt")
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: url.path) {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(try Data(contentsOf: url) == Data("soon\n".utf8))
    }

    @Test func aResumedRunWritesTheSmallResultsItsPredecessorLeft() async throws {
        let tester = try PluginTester(TestPlugin.self, configuration: Self.nothingHeld)
        defer { tester.context.removeRunDirectory() }
        _ = try await tester.put("/result.txt", body: Data("first host\n".utf8))
        let next = try tester.resumed()  // the first host stopped before writing the file
        _ = try await next.put("/other.txt", body: Data("second host\n".utf8))
        await next.finishFiles()
        let results = tester.context.resultsDirectory
        #expect(try Data(contentsOf: results.appendingPathComponent("result.txt")) == Data("first host\n".utf8))
        #expect(try Data(contentsOf: results.appendingPathComponent("other.txt")) == Data("second host\n".utf8))
    }

    @Test func aResultOverTheInlineLimitIsAFileBeforeItsAnswer() async throws {
        let tester = try PluginTester(TestPlugin.self, configuration: Self.nothingHeld)
        defer { tester.context.removeRunDirectory() }
        let bytes = Data((0..<(65536 + 1)).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        #expect(try await tester.put("/result.txt", body: bytes).status == 201)
        #expect(try Data(contentsOf: tester.context.resultsDirectory.appendingPathComponent("result.txt")) == bytes)
        let record = try #require(tester.context.records.first { $0.kind == "result-stored" })
        #expect(record.fields["inline_base64"] == nil)
    }

    /// Larger than `DirectWriter`'s blocks in flight, with an unaligned tail: the file holds
    /// every byte in order, and the record the digest of exactly those bytes.
    @Test func aLargeResultIsStoredByteForByte() async throws {
        let tester = try PluginTester(TestPlugin.self, configuration: Self.configuration)
        defer { tester.context.removeRunDirectory() }
        let bytes = Data((0..<((6 << 20) + 4097)).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ $0 >> 16) })
        #expect(try await tester.send("PUT", "/result.txt", body: bytes, chunkSize: 65_521).status == 201)
        let url = tester.context.resultsDirectory.appendingPathComponent("result.txt")
        #expect(try Data(contentsOf: url) == bytes)
        let record = try #require(tester.context.records.first { $0.kind == "result-stored" })
        #expect(record.fields["size"] == .int(Int64(bytes.count)))
        let sha256sum = Process()
        sha256sum.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        sha256sum.arguments = [url.path]
        let output = Pipe()
        sha256sum.standardOutput = output
        try sha256sum.run()
        let line = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        sha256sum.waitUntilExit()
        #expect(record.fields["sha256"]?.stringValue == line.split(separator: " ").first.map(String.init))
    }

    /// The client goes away with blocks still on their way to the disk: no file is left, and
    /// the run is told.
    @Test func anUploadCutShortLeavesNoFile() async throws {
        let tester = try PluginTester(TestPlugin.self, configuration: Self.configuration)
        defer { tester.context.removeRunDirectory() }
        let sent = Mutex(0)
        let body = RequestBody(expectedLength: 64 << 20) {
            let count = sent.withLock { count in
                count += 1
                return count
            }
            guard count <= 100 else { throw CancellationError() }  // ~6.5 MB arrived, then the drop
            return Data(repeating: UInt8(count), count: 65_521)
        }
        await #expect(throws: CancellationError.self) {
            try await tester.plugin.importData(try tester.request("PUT", "/result.txt", contentLength: 64 << 20), body: body)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: tester.context.resultsDirectory.path) == [])
        #expect(tester.context.records.contains { $0.kind == "result-incomplete" })
    }

    @Test func aBadDeferredBudgetIsRefused() throws {
        let bad = RunConfiguration(settings: ["Test": .object(["deferred_file_bytes": .int(-1)])])
        #expect(throws: PluginError.self) { try PluginTester(TestPlugin.self, configuration: bad) }
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
