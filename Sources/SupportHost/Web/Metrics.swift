import FoundationEssentials
import SupportKit

/// `/metrics`: the served runs in Prometheus' text format (version 0.0.4), computed from the
/// run directories at each scrape — they are the only source of truth, so a restarted `serve`
/// loses nothing. Counters count what the run directories hold (a removed run directory takes
/// its counts with it, as a counter reset).
enum Metrics {
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"
    static let durationBuckets: [Double] = [1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 14400]
    static let bootBuckets: [Double] = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]

    static func render(_ runs: [ServedRun]) -> String {
        var out = ""
        let running = runs.filter { $0.outcome == nil }.count
        family(&out, "supporthost_runs", "gauge", "Run directories by state: running (no outcome yet) or finished.")
        out += "supporthost_runs{state=\"running\"} \(running)\n"
        out += "supporthost_runs{state=\"finished\"} \(runs.count - running)\n"

        var byOutcome: [String: Int] = [:]
        for run in runs { if let outcome = run.outcome { byOutcome[outcome, default: 0] += 1 } }
        family(&out, "supporthost_runs_finished_total", "counter", "Finished runs by outcome.")
        for outcome in byOutcome.keys.sorted() { out += "supporthost_runs_finished_total{outcome=\"\(label(outcome))\"} \(byOutcome[outcome]!)\n" }

        histogram(&out, "supporthost_run_duration_seconds", "Duration of finished runs, launch to outcome.",
                  runs.compactMap { $0.outcome == nil ? nil : $0.duration }, buckets: durationBuckets)

        var byStatus: [String: Int64] = [:]
        for run in runs { for (status, count) in run.requestsByStatus { byStatus[status, default: 0] += count } }
        family(&out, "supporthost_requests_total", "counter", "Guest requests by HTTP status, over all runs.")
        for status in byStatus.keys.sorted() { out += "supporthost_requests_total{status=\"\(label(status))\"} \(byStatus[status]!)\n" }

        family(&out, "supporthost_received_bytes_total", "counter", "Request body bytes received from guests (finished runs).")
        out += "supporthost_received_bytes_total \(runs.reduce(0) { $0 + $1.bytesIn })\n"
        family(&out, "supporthost_sent_bytes_total", "counter", "Response bytes sent to guests (finished runs).")
        out += "supporthost_sent_bytes_total \(runs.reduce(0) { $0 + $1.bytesOut })\n"
        family(&out, "supporthost_mirror_requests_total", "counter", "Requests to the read-only mirrors, over all runs.")
        out += "supporthost_mirror_requests_total \(runs.reduce(0) { $0 + $1.mirrorRequests })\n"

        histogram(&out, "supporthost_guest_boot_to_ping_seconds", "Guest launch to its first ping.",
                  runs.compactMap(\.bootToPing), buckets: bootBuckets)
        return out
    }

    private static func family(_ out: inout String, _ name: String, _ type: String, _ help: String) {
        out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    private static func histogram(_ out: inout String, _ name: String, _ help: String, _ values: [Double], buckets: [Double]) {
        family(&out, name, "histogram", help)
        for bound in buckets {
            out += "\(name)_bucket{le=\"\(number(bound))\"} \(values.filter { $0 <= bound }.count)\n"
        }
        out += "\(name)_bucket{le=\"+Inf\"} \(values.count)\n"
        out += "\(name)_sum \(number(values.reduce(0, +)))\n"
        out += "\(name)_count \(values.count)\n"
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    /// A label value as the format wants it: backslash, quote and newline escaped.
    static func label(_ value: String) -> String {
        value.replacingEvery("\\", with: "\\\\").replacingEvery("\"", with: "\\\"").replacingEvery("\n", with: "\\n")
    }
}
