import JSONKit
import PluginAPI

/// Journal records' JSON, written by hand (`JSONWriter`): `JSONEncoder` cost about a fifth of
/// the host's CPU per mirror request (measured with perf under wrk), and every request is a
/// record. Any JSON reader decodes it.
enum JournalJSON {
    static func encode(_ entry: JournalEntry) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        start(fields: object(entry.fields), kind: entry.kind, to: &out)
        finish(seq: entry.seq, source: string(entry.source), time: entry.time, wall: Array(entry.wall.utf8), to: &out)
        return out
    }

    /// A record in two parts, so that only the second — the sequence number and the times —
    /// is written while the journal is locked: `{"fields":…,"kind":…` here, then `finish`.
    static func start(fields: [UInt8], kind: String, to out: inout [UInt8]) {
        out += #"{"fields":"#.utf8
        out += fields
        out += #","kind":"#.utf8
        JSONWriter.writeString(kind, to: &out)
    }

    /// The rest of a record; `source` is already a JSON string.
    static func finish(seq: UInt64, source: [UInt8], time: Double, wall: [UInt8], to out: inout [UInt8]) {
        out += #","seq":"#.utf8
        JSONWriter.writeInteger(Int64(seq), to: &out)
        out += #","source":"#.utf8
        out += source
        out += #","time":"#.utf8
        JSONWriter.writeDouble(time, to: &out)
        out += #","wall":""#.utf8
        out += wall
        out += #""}"#.utf8
    }

    static func string(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        JSONWriter.writeString(text, to: &out)
        return out
    }

    /// An object with its keys sorted.
    static func object(_ members: [String: JSONValue]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        JSONWriter.write(.object(members), to: &out)
        return out
    }
}
