/// Stopping a guest, the same for every cause: each of the operator's stop commands in turn
/// (e.g. a qemu monitor's `system_powerdown`, then `quit`), each with up to `stopGrace` for the
/// guest to exit; SIGTERM to its process group and up to `killGrace`; then SIGKILL to the group.
struct StopSequence {
    enum Step: Equatable, Sendable {
        /// The stop command at this index of the job's list.
        case stopCommand(Int)
        case terminate
        case kill

        /// The step's name in the journal and the report.
        var name: String {
            switch self {
            case .stopCommand: return "stop-command"
            case .terminate: return "SIGTERM"
            case .kill: return "SIGKILL"
            }
        }
    }

    let timeouts: Job.Timeouts
    let stopCommands: Int
    private(set) var step: Step?
    private(set) var stepStarted: Double = 0
    private(set) var began: Double = 0

    init(timeouts: Job.Timeouts, stopCommands: Int) {
        self.timeouts = timeouts
        self.stopCommands = stopCommands
    }

    /// The first step to take.
    mutating func begin(at now: Double) -> Step {
        began = now
        return enter(stopCommands > 0 ? .stopCommand(0) : .terminate, at: now)
    }

    /// The step to take now, if the current one has run out of time.
    mutating func advance(at now: Double) -> Step? {
        switch step {
        case .stopCommand(let index) where now >= stepStarted + timeouts.stopGrace:
            return enter(index + 1 < stopCommands ? .stopCommand(index + 1) : .terminate, at: now)
        case .terminate where now >= stepStarted + timeouts.killGrace:
            return enter(.kill, at: now)
        default:
            return nil
        }
    }

    /// When the current step runs out of time; nil once SIGKILL is sent (nothing is left but
    /// to wait for the exit).
    var nextStepAt: Double? {
        switch step {
        case .stopCommand: return stepStarted + timeouts.stopGrace
        case .terminate: return stepStarted + timeouts.killGrace
        case .kill, nil: return nil
        }
    }

    /// The step after the current one, if the guest outlasts it.
    var followingStep: Step? {
        switch step {
        case .stopCommand(let index): return index + 1 < stopCommands ? .stopCommand(index + 1) : .terminate
        case .terminate: return .kill
        case .kill, nil: return nil
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
