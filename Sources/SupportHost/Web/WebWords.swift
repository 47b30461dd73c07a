import FoundationEssentials
import SupportKit

/// Small formatting shared by the pages: durations, times and grade classes.
enum WebWords {
    /// `1.2 s`, `3 m 04 s`, `-` when unknown.
    static func duration(_ seconds: Double?) -> String {
        guard let seconds, seconds.isFinite, seconds >= 0 else { return "-" }
        if seconds < 60 { return String(printf: "%.1f s", seconds) }
        return clockText(seconds)
    }

    /// An ISO 8601 wall time as `2026-11-29 18:42:00` (UTC), `-` when missing.
    static func wall(_ text: String?) -> String {
        guard let text, text.count >= 19 else { return "-" }
        return String(text.replacingEvery("T", with: " ").prefix(19))
    }

    /// The CSS class of a grade or state: only these names ever reach a class attribute,
    /// whatever a report says.
    static func gradeClass(_ grade: String) -> String {
        switch grade.uppercased() {
        case "PASS": return "g-pass"
        case "FAIL": return "g-fail"
        case "NA": return "g-na"
        case "UNKNOWN": return "g-unknown"
        case "RUNNING": return "g-running"
        case "DONE", "COMPLETED": return "g-done"
        case "-", "NOT RUN": return "g-notrun"
        default: return "g-error"
        }
    }
}
