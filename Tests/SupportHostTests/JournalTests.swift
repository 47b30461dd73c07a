import Foundation
import PluginAPI
import Testing

@testable import SupportHost

struct JournalTests {
    static func entries(_ count: Int) -> [JournalEntry] {
        (1...count).map { index in
            JournalEntry(
                seq: UInt64(index), time: Double(index) / 10, wall: "2026-11-27T00:00:00Z", source: "host", kind: "request",
                fields: ["path": .string("/cpan/file-\(index)"), "status": 200])
        }
    }

    @Test func aJournalTornAtEveryByteOfItsLastRecordKeepsEveryEarlierRecord() {
        let records = Self.entries(5).map(JournalFormat.encode)
        let whole = records.dropLast().reduce([], +)
        let last = records.last!
        for cut in 0..<last.count {
            let contents = JournalFormat.read(Data(whole + last.prefix(cut)))
            #expect(contents.entries.count == 4, "cut at \(cut)")
            #expect(contents.validBytes == whole.count)
            #expect(contents.droppedBytes == cut)
            #expect((contents.problem != nil) == (cut > 0))
        }
        #expect(JournalFormat.read(Data(whole + last)).entries == Self.entries(5))
    }

    @Test func aFlippedBitInAMiddleRecordIsDetected() {
        let records = Self.entries(5).map(JournalFormat.encode)
        let offset = records[0].count + records[1].count + 40
        for bit in 0..<8 {
            var bytes = records.reduce([], +)
            bytes[offset] ^= UInt8(1 << bit)
            let contents = JournalFormat.read(Data(bytes))
            #expect(contents.entries.count == 2, "bit \(bit)")
            #expect(contents.problem != nil)
            #expect(contents.droppedBytes == bytes.count - records[0].count - records[1].count)
        }
    }

    @Test func durableAppendsAreOnDiskWhenTheyReturn() async throws {
        let url = Fixtures.temporaryDirectory("journal").appendingPathComponent("journal.log")
        let journal = try Journal(url: url, clock: RunClock())
        journal.append(source: "host", kind: "buffered", fields: [:])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<32 {
                group.addTask { try await journal.appendDurably(source: "Test", kind: "result-stored", fields: ["n": .int(Int64(index))]) }
            }
            try await group.waitForAll()
        }
        let contents = JournalFormat.read(try Data(contentsOf: url))
        #expect(contents.entries.count == 33)
        #expect(contents.entries.map(\.seq) == Array(1...33))
        try await journal.close()
    }
}

struct RouterTests {
    final class Stub: Plugin {
        static let name = "Stub"
        static let summary = ""
        static let hooks: Set<Hook> = []
        static let namespaceSummary = ""
        let namespaces: [Namespace]
        init(context: any HostContext) { namespaces = [] }
        init(_ namespaces: [Namespace]) { self.namespaces = namespaces }
    }

    @Test func exactBeatsPrefixAndTheLongestPrefixWins() throws {
        let root = Stub([.exact("/")]), cpan = Stub([.prefix("/cpan")]), deep = Stub([.prefix("/cpan/authors")])
        let router = try Router(plugins: [root, cpan, deep])
        #expect(router.route("/")?.route.plugin === root)
        #expect(router.route("/cpan")?.route.plugin === cpan)
        #expect(router.route("/cpan/modules/x")?.route.plugin === cpan)
        #expect(router.route("/cpan/modules/x")?.subpath == "/modules/x")
        #expect(router.route("/cpan/authors/id/A")?.route.plugin === deep)
        #expect(router.route("/cpanx") == nil)
        #expect(router.route("/other") == nil)
    }

    @Test func twoPluginsClaimingOneNamespaceIsABadJob() {
        #expect(throws: JobError.self) { try Router(plugins: [Stub([.exact("/r")]), Stub([.exact("/r")])]) }
    }
}
