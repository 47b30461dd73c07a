import Foundation
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
    static func of(_ report: JSONValue) async -> (grade: MatrixGrade, reason: String) {
        let outcome = report["outcome"]?.stringValue ?? "unknown"
        guard outcome == Outcome.completed.rawValue else {
            return (.error, report["line"]?.stringValue ?? outcome)
        }
        if let text = report["grade"]?.stringValue, let grade = MatrixGrade(rawValue: text.uppercased()), grade != .notRun, grade != .error {
            return (grade, report["grade_reason"]?.stringValue ?? "")
        }
        return await verdictGrade(report)
    }

    /// Until runs carry their own `"grade"` (issue 13), the grade is the Test plug-in's own
    /// verdict on the report, asked the way the `test` verb asks it. Delete this when every
    /// report has a grade.
    static func verdictGrade(_ report: JSONValue) async -> (grade: MatrixGrade, reason: String) {
        let finish: [String: JSONValue] = ["stage": .string(VerbStage.finish.rawValue), "report": report]
        guard let answer = try? await VerbPlugin.ask(MatrixCellRun.verb, arguments: finish), let verdict = VerbVerdict(json: answer),
            let pass = verdict.details["pass"]?.boolValue
        else { return (.unknown, "no test report") }
        return (pass ? .pass : .fail, verdict.lines.last ?? "")
    }
}
