import Foundation
import PluginAPI

/// What the runs list and `/metrics` need of one run, taken from its report (or, while it
/// runs, the report its journal gives so far).
struct ServedRun: Sendable {
    /// The run directory relative to the served directory: its id in every URL.
    let id: String
    let started: String
    let command: String
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

    init(id: String, report: JSONValue) {
        self.id = id
        started = report["started"]?.stringValue ?? ""
        command = report["command"]?.arrayValue?.compactMap(\.stringValue).joined(separator: " ") ?? ""
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
        let launched = timeline.first { $0["event"]?.stringValue == "guest-launched" }?["time"]?.doubleValue
        let firstPing = timeline.first { $0["event"]?.stringValue == "first-ping" }?["time"]?.doubleValue
        if let launched, let firstPing { bootToPing = max(0, firstPing - launched) } else { bootToPing = nil }
    }
}
