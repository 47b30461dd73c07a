import FoundationEssentials
import PluginAPI
import SupportKit

/// What the runs list and `/metrics` need of one run, taken from its report (or, while it
/// runs, the report its journal gives so far).
struct ServedRun: Sendable {
    /// The run directory relative to the served directory: its id in every URL.
    let id: String
    let started: String
    let command: String
    /// What the guest command launches, told from its program: `qemu x86_64`, `container`, `process`.
    let guestKind: String
    /// Nil while the run has none (running, or its host died).
    let outcome: String?
    let line: String?
    let duration: Double?
    let grade: String?
    let results: Int
    let requestsByStatus: [String: Int64]
    let bytesIn: Int64
    let bytesOut: Int64
    let mirrorRequests: Int64
    /// Launch to first ping, when the guest pinged.
    let bootToPing: Double?

    var state: String { outcome ?? "running" }

    /// The journal does not name a guest kind; the program does (the first one that is not
    /// `env`, `sudo`, `nice` or `timeout`).
    static func guestKind(_ argv: [String]) -> String {
        let wrappers: Set<String> = ["env", "sudo", "nice", "ionice", "timeout", "taskset", "setsid", "stdbuf"]
        guard let program = argv.map({ lastPathComponent(of: $0) }).first(where: { !wrappers.contains($0) && !$0.contains("=") && !$0.hasPrefix("-") && Double($0) == nil }) else {
            return "-"
        }
        if program.hasPrefix("qemu-system-") { return "qemu " + program.dropFirst("qemu-system-".count) }
        if ["docker", "podman", "systemd-nspawn", "lxc-execute", "bwrap", "unshare"].contains(program) { return "container (\(program))" }
        return "process"
    }

    init(id: String, report: JSONValue) {
        self.id = id
        started = report["started"]?.stringValue ?? ""
        let argv = report["command"]?.arrayValue?.compactMap(\.stringValue) ?? []
        command = argv.joined(separator: " ")
        guestKind = Self.guestKind(argv)
        outcome = report["outcome"]?.stringValue
        line = report["line"]?.stringValue
        duration = report["duration"]?.doubleValue
        grade = report["grade"]?.stringValue
        results = report["results"]?.arrayValue?.count ?? 0
        var byStatus: [String: Int64] = [:]
        for (status, count) in report["requests"]?["by_status"]?.objectValue ?? [:] { byStatus[status] = count.intValue ?? 0 }
        requestsByStatus = byStatus
        let timeline = report["timeline"]?.arrayValue ?? []
        let outcomeRecord = timeline.last { $0["event"]?.stringValue == "outcome" }
        bytesIn = outcomeRecord?["bytes_in"]?.intValue ?? 0
        bytesOut = outcomeRecord?["bytes_out"]?.intValue ?? 0
        mirrorRequests = report["mirror_totals"]?["count"]?.intValue ?? 0
        // `guest-started` says how long after the launch the first ping came; older reports
        // had a `first-ping` line instead.
        let launched = timeline.first { $0["event"]?.stringValue == "guest-launched" }?["time"]?.doubleValue
        let firstPing = timeline.first { $0["event"]?.stringValue == "first-ping" }?["time"]?.doubleValue
        if let after = timeline.first(where: { $0["event"]?.stringValue == "guest-started" })?["after"]?.doubleValue {
            bootToPing = after
        } else if let launched, let firstPing {
            bootToPing = max(0, firstPing - launched)
        } else {
            bootToPing = nil
        }
    }
}
