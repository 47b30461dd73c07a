#if canImport(Glibc)
import Glibc
#endif

/// Stopping a guest, the same for every cause: the operator's stop command (if any) and up to
/// `stopGrace` for the guest to exit; SIGTERM to its process group and up to `killGrace`;
/// then SIGKILL to the group.
struct StopSequence {
    enum Step: String, Sendable {
        case stopCommand = "stop-command"
        case terminate = "SIGTERM"
        case kill = "SIGKILL"
    }

    let timeouts: Job.Timeouts
    let hasStopCommand: Bool
    private(set) var step: Step?
    private(set) var stepStarted: Double = 0
    private(set) var began: Double = 0

    init(timeouts: Job.Timeouts, hasStopCommand: Bool) {
        self.timeouts = timeouts
        self.hasStopCommand = hasStopCommand
    }

    /// The first step to take.
    mutating func begin(at now: Double) -> Step {
        began = now
        return enter(hasStopCommand ? .stopCommand : .terminate, at: now)
    }

    /// The step to take now, if the current one has run out of time.
    mutating func advance(at now: Double) -> Step? {
        switch step {
        case .stopCommand where now >= stepStarted + timeouts.stopGrace: return enter(.terminate, at: now)
        case .terminate where now >= stepStarted + timeouts.killGrace: return enter(.kill, at: now)
        default: return nil
        }
    }

    /// Skips straight to SIGKILL (a second Ctrl-C).
    mutating func hurry(at now: Double) -> Step? {
        step == .kill ? nil : enter(.kill, at: now)
    }

    private mutating func enter(_ next: Step, at now: Double) -> Step {
        step = next
        stepStarted = now
        return next
    }
}
