import Foundation
import PluginAPI

/// Builds `report.json` from the journal alone, never from a run's memory: fresh plug-ins
/// replay their own records through their recover hooks and contribute their sections; the
/// host's records give the timeline, the guest's end, the stop and the outcome.
public enum ReportBuilder {
    /// Host records shown in the timeline (requests are too many; they are counted instead).
    static let timelineKinds: Set<String> = [
        "run-prepared", "listening", "guest-launching", "guest-launched", "guest-launch-failed", "guest-started",
        "finishing", "stop-requested", "stop-step", "stop-hurried", "stop-command-ended", "guest-exited",
        "leftovers-killed", "orphans-killed", "outcome", "host-crash-recovered",
    ]

    /// Reads the journal of `directory` and builds its report; a torn tail is left out.
    public static func rebuild(_ directory: RunDirectory) throws -> JSONValue {
        let data = try Data(contentsOf: directory.journal, options: .alwaysMapped)
        return build(JournalFormat.read(data), directory: directory)
    }

    static func build(_ contents: JournalFormat.Contents, directory: RunDirectory) -> JSONValue {
        let entries = contents.entries
        let prepared = entries.first { $0.source == "host" && $0.kind == "run-prepared" }
        let configuration = prepared?.fields["configuration"].flatMap { value in
            try? JSONDecoder().decode(RunConfiguration.self, from: value.encoded(pretty: false))
        } ?? RunConfiguration()

        var plugins: [String: any Plugin] = [:]
        for row in PluginTable.rows {
            let context = PluginContext(
                source: row.name, runDirectory: directory.url, configuration: configuration, journal: nil, events: nil)
            plugins[row.name] = try? row.init(context: context)
        }

        var report: [String: JSONValue] = ["run_dir": .string(directory.url.path)]
        var timeline: [JSONValue] = []
        var guest: [String: JSONValue] = [:]
        var stop: [String: JSONValue] = [:]
        var stopSteps: [JSONValue] = []
        var statuses: [String: Int64] = [:]
        var requestCount: Int64 = 0
        var replayProblems: [JSONValue] = []

        for entry in entries {
            if entry.kind == "request" {
                requestCount += 1
                statuses[String(entry.fields["status"]?.intValue ?? 0), default: 0] += 1
            }
            if entry.source != "host" {
                do {
                    try plugins[entry.source]?.recover(entry)
                } catch {
                    replayProblems.append(["seq": .int(Int64(entry.seq)), "reason": .string("\(error)")])
                }
                if entry.kind == "ping", timeline.allSatisfy({ $0["event"] != "first-ping" }) {
                    timeline.append(["time": .double(entry.time), "wall": .string(entry.wall), "event": "first-ping"])
                }
                if entry.kind == "result-stored" {
                    timeline.append(["time": .double(entry.time), "wall": .string(entry.wall), "event": "result-stored", "path": entry.fields["path"] ?? .null])
                }
                continue
            }
            if timelineKinds.contains(entry.kind) {
                var item: [String: JSONValue] = ["time": .double(entry.time), "wall": .string(entry.wall), "event": .string(entry.kind)]
                if entry.kind != "run-prepared" { item.merge(entry.fields) { current, _ in current } }
                timeline.append(.object(item))
            }
            switch entry.kind {
            case "run-prepared":
                report["command"] = entry.fields["command"]
                report["timeouts"] = entry.fields["timeouts"]
                report["started"] = .string(entry.wall)
            case "listening":
                report["listen"] = entry.fields["url"]
            case "guest-launched":
                guest["pid"] = entry.fields["pid"]
            case "guest-exited":
                guest.merge(entry.fields) { _, new in new }
                guest["time"] = .double(entry.time)
            case "stop-requested":
                stop = entry.fields
                stop["time"] = .double(entry.time)
            case "stop-step":
                var step = entry.fields
                step["time"] = .double(entry.time)
                stopSteps.append(.object(step))
            case "outcome":
                report["outcome"] = entry.fields["outcome"]
                report["exit_code"] = entry.fields["exit_code"]
                report["line"] = entry.fields["line"]
                report["finished"] = .string(entry.wall)
                report["duration"] = .double(entry.time)
            default:
                break
            }
        }
        if !stop.isEmpty || !stopSteps.isEmpty {
            stop["steps"] = .array(stopSteps)
            report["stop"] = .object(stop)
        }
        report["guest"] = .object(guest)
        report["timeline"] = .array(timeline)
        report["requests"] = ["count": .int(requestCount), "by_status": .object(statuses.mapValues { .int($0) })]
        report["journal"] = [
            "records": .int(Int64(entries.count)), "dropped_bytes": .int(Int64(contents.droppedBytes)),
            "problem": contents.problem.map { .string($0) } ?? .null,
        ]
        if !replayProblems.isEmpty { report["replay_problems"] = .array(replayProblems) }
        for row in PluginTable.rows {
            guard let plugin = plugins[row.name] else { continue }
            // Lists two plug-ins both contribute (platforms come from Discover and from
            // PITA-XML results of Test) are joined, in table order.
            report.merge(plugin.report()) { current, new in
                if let first = current.arrayValue, let second = new.arrayValue { return .array(first + second) }
                return current
            }
        }
        return .object(report)
    }

    static func write(_ report: JSONValue, to directory: RunDirectory) throws {
        try report.encoded(pretty: true).write(to: directory.report, options: .atomic)
    }
}
