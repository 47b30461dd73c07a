import Foundation
import PluginAPI
@testable import SupportHost
import Testing

/// The hand-written journal JSON reads back as what was written.
struct JournalJSONTests {
    @Test func aRecordReadsBackEqual() throws {
        let entry = JournalEntry(
            seq: 42, time: 1.25, wall: "2026-01-01T00:00:00.000Z", source: "CPANMirror", kind: "request",
            fields: [
                "path": "/cpan/a \"b\"\\c/\u{1}\n\té", "status": 200, "duration": 0.000123, "whole": 5.0, "nan": .double(.nan),
                "list": [true, false, .null, ["nested": 1]], "bytes_out": .int(Int64.max),
            ])
        let json = JournalJSON.encode(entry)
        let decoded = try JSONDecoder().decode(JournalEntry.self, from: Data(json))
        var expected = entry
        expected.fields["nan"] = .null
        expected.fields["whole"] = 5
        #expect(decoded == expected)
        #expect(String(decoding: json, as: UTF8.self).hasPrefix(#"{"fields":{"bytes_out":9223372036854775807,"duration":0.000123,"#))
    }

    @Test func wallTimesAreISO8601InUTCWithMilliseconds() throws {
        var clock = WallClockText()
        let before = Date()
        let text = String(decoding: clock.now(), as: UTF8.self)
        let parsed = try #require(try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)), "\(text)")
        #expect(text.count == 24 && text.hasSuffix("Z"))
        #expect(abs(parsed.timeIntervalSince(before)) < 1)
        // The text up to the second is reused within a second, the milliseconds never are stale.
        let again = String(decoding: clock.now(), as: UTF8.self)
        #expect(again >= text)
    }
}
