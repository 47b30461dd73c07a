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

    @Test func hardwareAndTableCRC32CAgree() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        let bytes = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }
        bytes.withUnsafeBytes { all in
            for start in 0..<9 {
                for end in stride(from: start, through: all.count, by: 7) {
                    let part = UnsafeRawBufferPointer(rebasing: all[start..<end])
                    #expect(CRC32C.checksum(part) == CRC32C.software(part), "bytes \(start)..<\(end)")
                }
            }
        }
    }

    @Test func fieldsReadFromTheJournalAnswerAsTheDecodedOnesDo() throws {
        let text = #"{"fields":{"a":1,"a":2,"b\u0061":3,"é":[4],"nested":{"status":9},"s":"x"},"kind":"k","seq":1,"source":"Test","time":0.5,"wall":"w"}"#
        var decoder = JournalEntryDecoder()
        let entry = try #require(try Array(text.utf8).withUnsafeBytes { try decoder.decode($0) })
        let decoded = try #require(JournalEntry(json: try JSONValue.decode(Data(text.utf8))))
        #expect(entry == decoded)
        for name in ["a", "ba", "é", "nested", "s", "status", "missing", ""] {
            #expect(entry.field(name) == decoded.fields[name], "\(name)")
        }
        #expect(entry.field("a") == 2)
        var changed = entry
        changed.fields["a"] = 5
        #expect(changed.field("a") == 5)
        #expect(entry.field("a") == 2)
    }

    @Test func recordsThatAreNotEntriesOrNotJSONEndTheJournal() {
        for bad in [#"{"fields":[],"kind":"k","seq":1,"source":"s","time":0,"wall":"w"}"#, #"{"fields":{"a":tru},"kind":"k","seq":1,"source":"s","time":0,"wall":"w"}"#, #"{"fields":{"a":1} "kind":"k"}"#] {
            let json = Array(bad.utf8)
            let crc = String(CRC32C.checksum(json), radix: 16)
            let length = String(json.count, radix: 16)
            let record = Array((String(repeating: "0", count: 8 - length.count) + length + " " + String(repeating: "0", count: 8 - crc.count) + crc + " ").utf8) + json + [0x0A]
            let contents = JournalFormat.read(Data(JournalFormat.encode(Self.entries(1)[0]) + record))
            #expect(contents.entries.count == 1, "\(bad)")
            #expect(contents.problem?.hasPrefix("unreadable record at byte") == true, "\(bad)")
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
