import FoundationEssentials
import PluginAPI
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A live run's Server-Sent Events: each look at the run's files sends at most one `update`
/// event with the new timeline lines, request counts and console lines since the last one.
/// Its id is the position it reaches (`StreamPosition`), so a client that reconnects with
/// `Last-Event-ID` gets exactly what it missed, and the stream ends with an `end` event once
/// the run has an outcome.
final class EventStream: WebEventSource {
    let directory: RunDirectory
    private let state: Mutex<StreamPosition>
    /// How often the server looks at the files: well under the 100 ms a person notices.
    let interval: Duration = .milliseconds(20)
    /// A comment line this often keeps proxies from closing a quiet stream.
    static let keepAlive: Duration = .seconds(15)
    private let lastSent = Mutex<ContinuousClock.Instant>(.now)

    /// `dir=ID`, for the download links of results that arrive.
    let query: String

    init(id: String, directory: RunDirectory, from position: StreamPosition) {
        self.directory = directory
        query = "dir=" + HTML.queryComponent(id)
        state = Mutex(position)
    }

    /// Said first: how long a browser waits before it reconnects.
    static let preamble = "retry: 1000\n\n"

    /// What to send now (nil: nothing new), and whether the stream is over.
    func poll() -> (frame: String?, ended: Bool) {
        state.withLock { position in
            let (entries, afterJournal) = JournalFollower.read(directory.journal, after: position)
            let (console, consoleEnd) = ConsoleReader.lines(directory.console, from: position.consoleOffset)
            var next = afterJournal
            next.consoleOffset = consoleEnd
            var timeline: [JSONValue] = []
            var accepted = Set<String>()
            var statuses: [String: Int64] = [:]
            var outcome: JSONValue?
            for entry in entries {
                if let item = TimelineItem(entry) { timeline.append(item.json) }
                if entry.source == "host", entry.kind == "result-accepted", let path = entry.field("path")?.stringValue { accepted.insert(path) }
                if entry.kind == "request", let status = entry.field("status")?.intValue { statuses[String(status), default: 0] += 1 }
                if entry.source == "host", entry.kind == "outcome" {
                    outcome = ["outcome": entry.field("outcome") ?? .null, "line": .string(HTML.consoleText(entry.field("line")?.stringValue ?? ""))]
                }
            }
            // The host says which results came in; their size and digest are in the report,
            // which only the plug-in's replay knows how to make (results are few: rebuilt rarely).
            var results: [JSONValue] = []
            if !accepted.isEmpty, let report = RunIndex.report(directory) {
                results = (report["results"]?.arrayValue ?? []).filter { accepted.contains($0["path"]?.stringValue ?? "") }
                    .map { RunPage.ResultRow($0, query: query).json }
            }
            guard next != position else {
                // Nothing new, and nothing will come: the run ended before this stream began
                // (a client resuming after the outcome), so it ends too.
                if FileManager.default.fileExists(atPath: directory.report.path) {
                    return (Self.event("end", id: position.text, data: .object([:])), true)
                }
                return (keepAliveDue() ? ": keep-alive\n\n" : nil, false)
            }
            position = next
            var update: [String: JSONValue] = [
                "timeline": .array(timeline), "console": .array(console.map(JSONValue.string)),
                "requests": .object(statuses.mapValues(JSONValue.int)), "results": .array(results),
            ]
            if let outcome { update["outcome"] = outcome }
            var frame = Self.event("update", id: next.text, data: .object(update))
            if outcome != nil { frame += Self.event("end", id: next.text, data: .object([:])) }
            lastSent.withLock { $0 = .now }
            return (frame, outcome != nil)
        }
    }

    private func keepAliveDue() -> Bool {
        lastSent.withLock { last in
            guard ContinuousClock.now - last >= Self.keepAlive else { return false }
            last = .now
            return true
        }
    }

    /// One event; the JSON is on one line, so it is one `data:` field.
    static func event(_ name: String, id: String, data: JSONValue) -> String {
        "id: \(id)\nevent: \(name)\ndata: \(String(decoding: data.encoded(pretty: false), as: UTF8.self))\n\n"
    }
}
