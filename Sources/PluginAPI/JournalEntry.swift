import Foundation

/// One record of the run's append-only journal.
///
/// The journal is the source of truth of a run: the report is rebuilt from it, and after a host
/// crash every plug-in replays its own entries through its `recover` hook.
public struct JournalEntry: Sendable, Codable, Hashable {
    /// Position in the journal, from 1, without gaps.
    public var seq: UInt64
    /// Seconds since the run was prepared, from a monotonic clock.
    public var time: Double
    /// Wall-clock time of the record (ISO 8601, UTC), for people only.
    public var wall: String
    /// Who wrote it: `host`, or a plug-in's name.
    public var source: String
    /// What happened, e.g. `guest-launched`, `request`, `result-stored`.
    public var kind: String
    /// The details, specific to the kind.
    public var fields: [String: JSONValue]

    /// Reads an entry from its JSON object; nil when a field is missing or of the wrong type.
    public init?(json: JSONValue) {
        guard case .object(let object) = json, let seq = object["seq"]?.intValue, seq > 0,
            let time = object["time"]?.doubleValue, let wall = object["wall"]?.stringValue,
            let source = object["source"]?.stringValue, let kind = object["kind"]?.stringValue,
            let fields = object["fields"]?.objectValue
        else { return nil }
        self.init(seq: UInt64(seq), time: time, wall: wall, source: source, kind: kind, fields: fields)
    }

    public init(seq: UInt64, time: Double, wall: String, source: String, kind: String, fields: [String: JSONValue]) {
        self.seq = seq
        self.time = time
        self.wall = wall
        self.source = source
        self.kind = kind
        self.fields = fields
    }
}

extension JournalEntry {
    /// The field of a `result-stored` record that carries a small result's bytes (base64): the
    /// record's fsync made the result durable, and `recover` writes the file back from it if
    /// a machine crash lost the file. Reports never show it.
    public static let inlineResultField = "inline_base64"
}
