import FoundationEssentials
import PluginAPI
import SupportKit

/// One line of a run's timeline, from its report or from a journal record read live.
struct TimelineItem {
    let time: Double
    let wall: String
    let event: String
    let detail: String

    /// The fields worth a word on the line, in this order (`guest` only in a run of several).
    static let detailKeys = ["guest", "path", "step", "cause", "signal", "exit_status", "reason", "line", "url", "pid", "after"]

    init(_ item: JSONValue) {
        time = item["time"]?.doubleValue ?? 0
        wall = item["wall"]?.stringValue ?? ""
        event = item["event"]?.stringValue ?? "?"
        detail = Self.detail(item.objectValue ?? [:])
    }

    /// The timeline line of a journal record, or nil when the record is not one the timeline
    /// shows: as in the report, only the host's own records (`ReportReplay.timelineKinds`);
    /// a plug-in's records are its own business.
    init?(_ entry: JournalEntry) {
        guard entry.source == "host", ReportReplay.timelineKinds.contains(entry.kind) else { return nil }
        (time, wall, event) = (entry.time, entry.wall, entry.kind)
        detail = entry.kind == "run-prepared" ? "" : Self.detail(entry.fields)
    }

    static func detail(_ fields: [String: JSONValue]) -> String {
        detailKeys.compactMap { key -> String? in
            guard let value = fields[key] else { return nil }
            switch value {
            case .string(let text): return "\(key) \(text)"
            case .int(let number): return "\(key) \(number)"
            case .double(let number): return "\(key) \(String(printf: "%.3f", number))"
            case .bool(let flag): return "\(key) \(flag)"
            default: return nil
            }
        }.joined(separator: " · ")
    }

    var json: JSONValue {
        ["time": .string(String(printf: "%.3f s", time)), "wall": .string(WebWords.wall(wall)), "event": .string(event), "detail": .string(HTML.consoleText(detail))]
    }
}
