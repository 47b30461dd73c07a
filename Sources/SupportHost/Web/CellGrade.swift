import Dispatch
import FoundationEssentials
import PluginAPI
import Synchronization

/// The grade of a completed matrix cell while the matrix still runs (its `matrix.json` is
/// written at the end): asked of `MatrixGrade.of`, as the matrix itself grades, and remembered
/// per report file, so a page following the grid asks once per cell.
enum CellGrade {
    private static let cache = Mutex<[String: (stamp: [Int], grade: String, reason: String)]>([:])
    /// A verdict that takes longer is shown as UNKNOWN rather than hold a reader thread.
    static let timeout: DispatchTimeInterval = .seconds(10)

    /// Called on a thread-pool thread, never on an event loop or in a task: it waits.
    static func of(_ report: JSONValue, file: URL) -> (grade: String, reason: String) {
        let stamp = RunIndex.stat(file)
        if let hit = cache.withLock({ $0[file.path] }), hit.stamp == stamp { return (hit.grade, hit.reason) }
        let answer = Answer()
        let done = DispatchSemaphore(value: 0)
        Task {
            let (grade, reason) = await MatrixGrade.of(report)
            answer.value = (grade.rawValue, reason)
            done.signal()
        }
        guard done.wait(timeout: .now() + timeout) == .success else { return ("UNKNOWN", "no verdict in time") }
        let (grade, reason) = answer.value
        cache.withLock { $0[file.path] = (stamp, grade, reason) }
        return (grade, reason)
    }

    /// Written once by the task before it signals, read only after the wait returns.
    private final class Answer: @unchecked Sendable {
        var value = ("UNKNOWN", "")
    }
}
