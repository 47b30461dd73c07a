import PITAXML
import PluginAPI

/// What the Test plug-in knows of a run: results stored, resumable uploads under way, and what
/// PITA-XML results said. Rebuilt from the journal by `recover`.
struct TestState: Sendable {
    var stored: [String: StoredResult] = [:]
    var partial: [String: PartialUpload] = [:]
    /// Paths with a piece arriving right now: pieces of one path are taken one at a time.
    var busy: Set<String> = []
    var summaries: [String: JSONValue] = [:]
    var platforms = PlatformSet()
}

/// A result file complete and on stable storage.
struct StoredResult: Sendable {

    var path: String
    var file: String
    var size: Int64
    var sha256: String
    /// Seconds since the run was prepared, from the journal record (nil until recovered).
    var time: Double?
    /// How many pieces it came in (nil for a single PUT).
    var pieces: Int64?
    /// The guest whose result it is, in a run of several guests.
    var guest: String?

    /// Its key in the plug-in's state.
    var key: String { ResultPlace.key(guest: guest, path: path) }

    init(path: String, file: String, size: Int64, sha256: String, pieces: Int64? = nil) {
        self.path = path
        self.file = file
        self.size = size
        self.sha256 = sha256
        self.pieces = pieces
    }

    init?(_ entry: JournalEntry) {
        let fields = entry.fields
        guard let path = fields["path"]?.stringValue, let file = fields["file"]?.stringValue,
            let size = fields["size"]?.intValue, let sha = fields["sha256"]?.stringValue
        else { return nil }
        self.init(path: path, file: file, size: size, sha256: sha, pieces: fields["pieces"]?.intValue)
        guest = fields["guest"]?.stringValue
        time = entry.time
    }

    var fields: [String: JSONValue] {
        var fields: [String: JSONValue] = ["path": .string(path), "file": .string(file), "size": .int(size), "sha256": .string(sha256)]
        if let time { fields["time"] = .double(time) }
        if let pieces { fields["pieces"] = .int(pieces) }
        if let guest { fields["guest"] = .string(guest) }
        return fields
    }
}

/// A resumable upload under way: the pieces received so far, in `results/<file>`.
struct PartialUpload: Sendable {
    var total: Int64
    var ranges = ByteRanges()
    var pieces: Int64 = 0
    var file: String

    var fields: [String: JSONValue] {
        [
            "total": .int(total), "received": .string(ranges.description), "received_bytes": .int(ranges.count),
            "missing_bytes": .int(total - ranges.count), "file": .string(file),
        ]
    }
}
