import FoundationEssentials
import PluginAPI
import SupportKit

#if canImport(Glibc)
import Glibc
#endif

/// Where a matrix stands, for the progress display: counts, elapsed time, an estimate of the
/// rest, and the cells running now.
public struct MatrixProgress: Sendable {
    public struct Running: Sendable {
        public var name: String
        public var seconds: Double
    }

    public var total: Int
    /// Finished before this invocation started.
    public var skipped: Int
    public var done: Int
    public var failed: Int
    public var interrupted: Int
    public var running: [Running]
    public var elapsed: Double
    /// Seconds left, from the mean duration of the cells done so far; nil before the first.
    public var eta: Double?

    /// One summary line, then one line per running cell.
    public var lines: [String] {
        var head = "matrix: \(done + skipped)/\(total) done (\(failed) FAIL/error), \(running.count) running"
        if interrupted > 0 { head += ", \(interrupted) interrupted" }
        head += " · \(Self.clock(elapsed))"
        if let eta { head += " · ETA \(Self.clock(eta))" }
        return [head] + running.map { "  \($0.name)  \(Self.clock($0.seconds))" }
    }

    static func clock(_ seconds: Double) -> String {
        let total = Int(seconds.rounded(.down))
        return total >= 3600
            ? String(printf: "%ld:%02ld:%02ld", total / 3600, total / 60 % 60, total % 60)
            : String(printf: "%02ld:%02ld", total / 60, total % 60)
    }
}

/// The local executor's shared tally: which cells run (and their pids, for Ctrl-C), which ended.
// Safe: every field is behind `state`'s lock.
final class MatrixBoard: @unchecked Sendable {
    private struct State {
        var running: [Int: (cell: MatrixCell, pid: pid_t, started: Date)] = [:]
        var done = 0
        var failed = 0
        var interrupted = 0
        var durations: [Double] = []
    }

    private let state = Locked(State())
    private let total: Int
    private let skipped: Int
    private let jobs: Int
    private let start = Date()

    init(total: Int, skipped: Int, jobs: Int) {
        self.total = total
        self.skipped = skipped
        self.jobs = jobs
    }

    func started(_ cell: MatrixCell, pid: pid_t, at date: Date) {
        state.withLock { $0.running[cell.index] = (cell, pid, date) }
    }

    /// `grade` nil: the cell was interrupted.
    func ended(_ cell: MatrixCell, grade: MatrixGrade?, seconds: Double) {
        state.withLock {
            $0.running[cell.index] = nil
            guard let grade else {
                $0.interrupted += 1
                return
            }
            $0.done += 1
            $0.durations.append(seconds)
            if grade.needsRetry { $0.failed += 1 }
        }
    }

    func runningPIDs() -> [pid_t] { state.withLock { $0.running.values.map(\.pid) } }

    func snapshot() -> MatrixProgress {
        state.withLock { state in
            let now = Date()
            let left = total - skipped - state.done - state.interrupted
            let mean = state.durations.isEmpty ? nil : state.durations.reduce(0, +) / Double(state.durations.count)
            let eta = mean.map { $0 * Double(max(0, left)) / Double(max(1, min(jobs, left))) }
            let running = state.running.values.sorted { $0.cell.index < $1.cell.index }.map {
                MatrixProgress.Running(name: "\($0.cell.distName) on \($0.cell.guest.name)", seconds: now.timeIntervalSince($0.started))
            }
            return MatrixProgress(
                total: total, skipped: skipped, done: state.done, failed: state.failed, interrupted: state.interrupted,
                running: running, elapsed: now.timeIntervalSince(start), eta: eta)
        }
    }
}
