import FoundationEssentials
import PluginAPI

#if canImport(Glibc)
import Glibc
#endif

/// What the run's owner knows of one guest: its process, its deadlines, its stop sequence,
/// its console, the results it still owes, and how it ended. Every guest of a run has one; a
/// run of one guest has one. Only `RunOwner` changes it.
struct GuestState {
    let guest: JobGuest
    var watchdog: GuestWatchdog
    var stop: StopSequence
    var console: ConsoleWatch
    var pid: pid_t?
    var exit: GuestExit?
    /// Its command could not be started: it is gone without an exit.
    var launchFailed = false
    /// Required result paths not in yet.
    var missing: Set<String>
    /// How its end relates to the stop under way ("; stopped by SIGTERM after 0.1 s"), set at its exit.
    var stopNote = ""
    /// Set when the guest failed (a timeout of its own, a bad exit, results missing): why, and
    /// the outcome it would give the run.
    var failure: Failure?
    /// Its stop was asked for (with the run's, or alone when it failed and is not essential);
    /// begun once its pid is known.
    var stopRequested = false
    var pendingStopCommand: [String]?
    /// How each stop command ended (`exited(0)`, …), by index: whether it reached the guest.
    var stopCommandEnded: [Int: String] = [:]
    var latePingNoted = false
    var bootID: String?
    var bootBanners = 0
    var reboots = 0

    struct Failure {
        let outcome: Outcome
        /// The outcome's words, e.g. `guest failed`.
        let label: String
        let detail: String
    }

    init(_ guest: JobGuest, timeouts: Job.Timeouts, console: ConsoleWatch) {
        self.guest = guest
        self.console = console
        watchdog = GuestWatchdog(startup: guest.startupTimeout, activity: guest.activityTimeout)
        stop = StopSequence(timeouts: timeouts, stopCommands: guest.stopCommands.count)
        missing = Set(guest.results.filter(\.required).map(\.path))
    }

    var name: String { guest.name }
    var isGone: Bool { exit != nil || launchFailed }
    var isStopping: Bool { stop.step != nil }

    /// A stop step in words, for the status line.
    func stepText(_ step: StopSequence.Step) -> String {
        guard case .stopCommand(let index) = step else { return step.name }
        return guest.stopCommands.count > 1 ? "stop command \(index + 1) of \(guest.stopCommands.count)" : "stop command"
    }

    /// How the guest's end relates to its stop, claiming no more than is known: a guest that
    /// exits while a stop command runs (or after it failed) may have ended by itself.
    func stopText(_ exit: GuestExit, at now: Double) -> String {
        guard let step = stop.step else { return "" }
        let into = durationText(now - stop.began)
        switch step {
        case .stopCommand(let index):
            let number = guest.stopCommands.count > 1 ? " \(index + 1)" : ""
            switch stopCommandEnded[index] {
            case "exited(0)"?: return "; the guest exited \(into) into the stop, after stop command\(number) was sent"
            case let status?: return "; the guest exited by itself \(into) into the stop (stop command\(number) ended \(status))"
            case nil: return "; the guest exited by itself \(into) into the stop, before stop command\(number) finished"
            }
        case .terminate, .kill:
            let signal = step == .kill ? SIGKILL : SIGTERM
            if exit == .signalled(signal) { return "; stopped by \(step.name) after \(into)" }
            return "; the guest exited (\(exit.description)) \(into) into the stop, after \(step.name)"
        }
    }

    /// What a guest's own end (no stop asked for) means: a failure, or nil when it did its part.
    func judge(_ exit: GuestExit, after elapsed: Double) -> (outcome: Outcome, label: String, detail: String) {
        let missingText = missing.sorted().joined(separator: ", ")
        switch exit {
        case .exited(0) where missing.isEmpty: return (.completed, "completed", "guest exited 0 after \(durationText(elapsed))")
        case .exited(0): return (.resultsMissing, "results missing", "\(missingText) (guest exited 0)")
        case .exited(let code): return (.guestFailed, "guest failed", "exit status \(code)")
        case .signalled: return (.guestCrashed, "guest crashed", exit.description)
        case .unknown where missing.isEmpty: return (.completed, "completed", "every required result in; the guest's \(exit.description)")
        case .unknown: return (.resultsMissing, "results missing", "\(missingText); the guest's \(exit.description)")
        }
    }
}
