import FoundationEssentials
import JSONKit

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
    ///
    /// An entry read from a journal decodes them when first asked (a long journal holds a
    /// million records whose details are mostly only counted); `field(_:)` reads one of them
    /// without decoding the others.
    public var fields: [String: JSONValue] {
        get {
            switch storage {
            case .decoded(let fields): return fields
            case .text(let text): return text.decoded
            }
        }
        set { storage = .decoded(newValue) }
    }

    private var storage: FieldStorage

    private enum FieldStorage: Sendable {
        case decoded([String: JSONValue])
        case text(FieldsText)
    }

    /// One of `fields` by name, e.g. `entry.field("status")`.
    ///
    /// The cheap way to read a field or two of many entries: for an entry read from a journal
    /// it finds the one field in the record's text instead of decoding all of them.
    public func field(_ name: String) -> JSONValue? {
        switch storage {
        case .decoded(let fields): return fields[name]
        case .text(let text): return text.field(name)
        }
    }

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
        self.init(seq: seq, time: time, wall: wall, source: source, kind: kind, storage: .decoded(fields))
    }

    /// An entry whose fields are still the checked JSON text of an object.
    package init(seq: UInt64, time: Double, wall: String, source: String, kind: String, fieldsText: FieldsText) {
        self.init(seq: seq, time: time, wall: wall, source: source, kind: kind, storage: .text(fieldsText))
    }

    private init(seq: UInt64, time: Double, wall: String, source: String, kind: String, storage: FieldStorage) {
        self.seq = seq
        self.time = time
        self.wall = wall
        self.source = source
        self.kind = kind
        self.storage = storage
    }

    private enum CodingKeys: String, CodingKey {
        case seq, time, wall, source, kind, fields
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            seq: try container.decode(UInt64.self, forKey: .seq), time: try container.decode(Double.self, forKey: .time),
            wall: try container.decode(String.self, forKey: .wall), source: try container.decode(String.self, forKey: .source),
            kind: try container.decode(String.self, forKey: .kind),
            fields: try container.decode([String: JSONValue].self, forKey: .fields))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(seq, forKey: .seq)
        try container.encode(time, forKey: .time)
        try container.encode(wall, forKey: .wall)
        try container.encode(source, forKey: .source)
        try container.encode(kind, forKey: .kind)
        try container.encode(fields, forKey: .fields)
    }

    public static func == (left: JournalEntry, right: JournalEntry) -> Bool {
        left.seq == right.seq && left.time == right.time && left.wall == right.wall && left.source == right.source
            && left.kind == right.kind && left.fields == right.fields
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(seq)
        hasher.combine(time)
        hasher.combine(wall)
        hasher.combine(source)
        hasher.combine(kind)
        hasher.combine(fields)
    }
}
