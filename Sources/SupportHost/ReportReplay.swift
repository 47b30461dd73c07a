import FoundationEssentials
import PluginAPI

/// A report being rebuilt from the journal one record at a time: fresh plug-ins take their
/// records through their recover hooks as they come, and the host's records give the timeline,
/// the guest's end, the stop and the outcome. No record is kept, so a journal of a million
/// requests replays in little memory.
struct ReportReplay {
    /// Host records shown in the timeline (requests are too many; they are counted instead).
    static let timelineKinds: Set<String> = [
        "run-prepared", "listening", "guest-launching", "guest-launched", "guest-launch-failed", "guest-started",
        "finishing", "stop-requested", "stop-step", "stop-hurried", "stop-command-ended", "guest-exited",
        "leftovers-killed", "orphans-killed", "outcome", "host-crash-recovered", "late-ping", "listen-failed",
        "result-accepted", "guest-failed", "guest-stopping", "private-network",
    ]

    let directory: RunDirectory
    /// Made at the first record a plug-in replays, with the configuration of the run's
    /// `run-prepared` record, which a run writes first.
    private var plugins: [(name: String, plugin: any Plugin)]?
    private var configuration = RunConfiguration()
    private var sawPrepared = false
    /// The plug-in of the previous record: runs of records from one source are the rule.
    private var lastSource = ""
    private var lastPlugin: (any Plugin)?

    private var report: [String: JSONValue]
    private var timeline: [JSONValue] = []
    private var guest: [String: JSONValue] = [:]
    private var guests = ReportGuests()
    private var stop: [String: JSONValue] = [:]
    private var stopSteps: [JSONValue] = []
    private var statuses: [Int64: Int64] = [:]
    private var requestCount: Int64 = 0
    private var replayProblems: [JSONValue] = []
    /// The first requests answered 4xx/5xx, with why; a guest's mistakes are the first thing
    /// a person looks for when a run fails.
    private var refused: [JSONValue] = []
    private var refusedCount: Int64 = 0
    static let maxRefusedListed = 20
    private(set) var records = 0

    init(directory: RunDirectory) {
        self.directory = directory
        report = ["run_dir": .string(directory.url.path)]
    }

    mutating func add(_ entry: JournalEntry) {
        records += 1
        if entry.kind == "request" {
            requestCount += 1
            let status = entry.field("status")?.intValue ?? 0
            statuses[status, default: 0] += 1
            if status >= 400 { noteRefused(entry, status: status) }
        }
        // A plug-in's records go to its recover hook only: the timeline is made of the host's
        // own records (a result in is the host's `result-accepted`, the start `guest-started`).
        if entry.source != "host" {
            replay(entry)
            return
        }

        if Self.timelineKinds.contains(entry.kind) {
            var item: [String: JSONValue] = ["time": .double(entry.time), "wall": .string(entry.wall), "event": .string(entry.kind)]
            if entry.kind != "run-prepared" { item.merge(entry.fields) { current, _ in current } }
            timeline.append(.object(item))
        }
        guests.add(entry)
        switch entry.kind {
        case "run-prepared":
            if !sawPrepared, plugins == nil {
                configuration = entry.fields["configuration"].flatMap { value in
                    try? JSONDecoder().decode(RunConfiguration.self, from: value.encoded(pretty: false))
                } ?? RunConfiguration()
            }
            if !sawPrepared { guests.prepare(configuration) }
            sawPrepared = true
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
            if let guest = entry.fields["guest"] { report["outcome_guest"] = guest }
            report["finished"] = .string(entry.wall)
            report["duration"] = .double(entry.time)
        default:
            break
        }
    }

    private mutating func noteRefused(_ entry: JournalEntry, status: Int64) {
        refusedCount += 1
        guard refused.count < Self.maxRefusedListed else { return }
        let method = entry.field("method")?.stringValue ?? "?"
        let path = entry.field("path")?.stringValue ?? "?"
        var item: [String: JSONValue] = [
            "time": .double(entry.time), "method": .string(method), "path": .string(path), "status": .int(status),
        ]
        if let reason = entry.field("reason")?.stringValue { item["reason"] = .string(reason) }
        let guest = entry.field("guest")?.stringValue
        if let guest { item["guest"] = .string(guest) }
        let expected = (guest.map { configuration.results(of: $0) } ?? configuration.results).map(\.path)
        if status == 404, method == "PUT", !expected.isEmpty, !expected.contains(path) {
            let listed = expected.prefix(5).joined(separator: ", ") + (expected.count > 5 ? ", …" : "")
            item["hint"] = .string("the guest put \(path), which is not a result path; expected \(listed)")
        }
        refused.append(.object(item))
    }

    private mutating func replay(_ entry: JournalEntry) {
        if entry.source != lastSource {
            lastSource = entry.source
            lastPlugin = madePlugins().first { $0.name == entry.source }?.plugin
        }
        do {
            try lastPlugin?.recover(entry)
        } catch {
            replayProblems.append(["seq": .int(Int64(entry.seq)), "reason": .string("\(error)")])
        }
    }

    private mutating func madePlugins() -> [(name: String, plugin: any Plugin)] {
        if let plugins { return plugins }
        var made: [(name: String, plugin: any Plugin)] = []
        for row in PluginTable.rows {
            let context = PluginContext(
                source: row.name, runDirectory: directory.url, configuration: configuration, journal: nil, events: nil)
            do {
                made.append((row.name, try PluginTable.make(row, context: context)))
            } catch {
                // Its records go unreplayed: the report says so rather than leaving it out unseen.
                replayProblems.append(["plugin": .string(row.name), "reason": .string("could not start: \(error)")])
            }
        }
        plugins = made
        return made
    }

    /// After a crash: each plug-in checks and repairs its own files (`Plugin.recoverFiles`),
    /// reading its own records again only if it needs to; returns the sections they replace.
    mutating func recoverFiles() -> [String: JSONValue] {
        var sections: [String: JSONValue] = [:]
        for (name, plugin) in madePlugins() {
            sections.merge(plugin.recoverFiles(ownRecords(of: name, in: directory))) { current, _ in current }
        }
        return sections
    }

    /// The report of the records replayed so far; `journal` says how far the whole records
    /// reached and why reading stopped, if it stopped early.
    mutating func report(journal: JournalFormat.Extent) -> JSONValue {
        var report = report
        var stop = stop
        if !stop.isEmpty || !stopSteps.isEmpty {
            stop["steps"] = .array(stopSteps)
            report["stop"] = .object(stop)
        }
        report["guest"] = .object(guest)
        report["timeline"] = .array(timeline)
        let byStatus = Dictionary(uniqueKeysWithValues: statuses.map { (String($0.key), JSONValue.int($0.value)) })
        report["requests"] = ["count": .int(requestCount), "by_status": .object(byStatus)]
        report["journal"] = [
            "records": .int(Int64(records)), "dropped_bytes": .int(Int64(journal.droppedBytes)),
            "problem": journal.problem.map { .string($0) } ?? .null,
        ]
        if !replayProblems.isEmpty { report["replay_problems"] = .array(replayProblems) }
        report["refused_requests"] = .array(refused)
        report["refused_requests_total"] = .int(refusedCount)
        report["console_tail"] = .array(ConsoleTail.read(directory.console).map { .string($0) })
        report["console_log"] = .string(directory.console.path)
        if let section = guests.section(directory: directory) {
            report["guests"] = section
            report["guest"] = nil
            report["console_tail"] = nil
            report["console_log"] = nil
        }
        for (_, plugin) in madePlugins() {
            // Lists two plug-ins both contribute (platforms come from Discover and from
            // PITA-XML results of Test) are joined, in table order.
            report.merge(plugin.report()) { current, new in
                if let first = current.arrayValue, let second = new.arrayValue { return .array(first + second) }
                return current
            }
        }
        return .object(report)
    }
}

/// A plug-in's own records in the run's journal, read again on demand (`FileRecovery`): only
/// what is on disk, so the caller makes sure the records it needs were written durably.
func ownRecords(of plugin: String, in directory: RunDirectory) -> FileRecovery {
    let journal = directory.journal
    return FileRecovery(runDirectory: directory.url) { body in
        guard let mapped = try? MappedJournal(journal) else { return }
        _ = JournalFormat.scan(mapped.bytes) { entry in
            if entry.source == plugin { body(entry) }
        }
    }
}
