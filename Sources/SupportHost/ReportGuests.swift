import FoundationEssentials
import PluginAPI

/// The report's `guests` section of a run of several guests: one entry per guest, in the
/// job's order — its role, whether it is essential, its pid, start, end, failure, results and
/// console — from the host's records that name it.
struct ReportGuests {
    private var order: [String] = []
    private var guests: [String: [String: JSONValue]] = [:]

    /// The run's guests, from the `run-prepared` record's configuration.
    mutating func prepare(_ configuration: RunConfiguration) {
        guard configuration.guests.count > 1 else { return }
        order = configuration.guests.map(\.name)
        for guest in configuration.guests {
            var entry: [String: JSONValue] = ["name": .string(guest.name), "essential": .bool(guest.essential), "results": []]
            if let role = guest.role { entry["role"] = .string(role) }
            guests[guest.name] = entry
        }
    }

    /// The host records that go into a guest's section: only these are read field by field
    /// (a journal holds a record per request, which must not be decoded here).
    static let kinds: Set<String> = [
        "guest-launched", "guest-started", "guest-launch-failed", "guest-exited", "guest-failed", "result-accepted", "stop-step",
    ]

    mutating func add(_ entry: JournalEntry) {
        guard !order.isEmpty, Self.kinds.contains(entry.kind), let name = entry.fields["guest"]?.stringValue, var guest = guests[name] else { return }
        switch entry.kind {
        case "guest-launched": guest["pid"] = entry.fields["pid"]
        case "guest-started": guest["started_after"] = entry.fields["after"]
        case "guest-launch-failed": guest["launch_failed"] = entry.fields["reason"]
        case "guest-exited":
            var exit = entry.fields
            exit["guest"] = nil
            exit["time"] = .double(entry.time)
            guest["exit"] = .object(exit)
        case "guest-failed":
            guest["failed"] = entry.fields["detail"]
            guest["failure_outcome"] = entry.fields["outcome"]
        case "result-accepted":
            var result = entry.fields
            result["guest"] = nil
            guest["results"] = .array((guest["results"]?.arrayValue ?? []) + [.object(result)])
        case "stop-step":
            var step = entry.fields
            step["guest"] = nil
            step["time"] = .double(entry.time)
            guest["stop_steps"] = .array((guest["stop_steps"]?.arrayValue ?? []) + [.object(step)])
        default: return
        }
        guests[name] = guest
    }

    /// The section, nil in a run of one guest (whose report keeps its `guest` as it always had).
    func section(directory: RunDirectory) -> JSONValue? {
        guard !order.isEmpty else { return nil }
        return .array(order.map { name in
            var guest = guests[name] ?? [:]
            let console = directory.console(of: name, several: true)
            guest["console_log"] = .string(console.path)
            guest["console_tail"] = .array(ConsoleTail.read(console).map { .string($0) })
            return .object(guest)
        })
    }
}
