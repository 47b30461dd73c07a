import FoundationEssentials
import PluginAPI

/// A cell's grade in the grid: the test's verdict when its run completed, `error` when the run
/// itself did not (timeout, crash, host error), `not run` when it never ran to an end.
public enum MatrixGrade: String, Sendable, CaseIterable {
    case pass = "PASS"
    case fail = "FAIL"
    case na = "NA"
    case unknown = "UNKNOWN"
    case error
    case notRun = "-"

    /// FAIL and error cells run again with `--retry-failed`.
    var needsRetry: Bool { self == .fail || self == .error }

    /// The grade of a finished run's `report.json`, and why.
    // `async` for its callers' sake: a grade once came from asking the Test plug-in.
    static func of(_ report: JSONValue) async -> (grade: MatrixGrade, reason: String) {
        let outcome = report["outcome"]?.stringValue ?? "unknown"
        guard outcome == Outcome.completed.rawValue else {
            return (.error, report["line"]?.stringValue ?? outcome)
        }
        if let text = report["grade"]?.stringValue, let grade = MatrixGrade(rawValue: text.uppercased()), grade != .notRun, grade != .error {
            return (grade, report["grade_reason"]?.stringValue ?? "")
        }
        // The Test plug-in grades every run whose guest sent a test report or a step; a run
        // that completed with neither tested nothing.
        return (.unknown, "the run completed without a test report")
    }
}
