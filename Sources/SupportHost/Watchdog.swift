/// The run's own deadlines on the monotonic run clock: total (the whole run) and shutdown
/// (once every required result is in, the time the guests have to exit by themselves). Each
/// guest's startup and activity deadlines are its `GuestWatchdog`'s.
struct Watchdog {
    enum Cause: String, Sendable {
        case startupTimeout = "startup-timeout"
        case activityTimeout = "activity-timeout"
        case totalTimeout = "total-timeout"
        case shutdownTimeout = "shutdown-timeout"
        case interrupted
        case consoleFail = "console-fail"
        case rebootLoop = "reboot-loop"
        /// A plug-in ended the run (`finish(reason:)`).
        case pluginFinished = "plugin-finished"
        /// A plug-in failed the run (`fail(reason:)`).
        case pluginFailed = "plugin-failed"
        /// An essential guest of a run of several exited or failed: the others are stopped.
        case guestFailed = "guest-failed"
    }

    let timeouts: Job.Timeouts
    private(set) var finishingAt: Double?
    private(set) var totalDeadline: Double

    init(timeouts: Job.Timeouts, now: Double) {
        self.timeouts = timeouts
        totalDeadline = now + timeouts.total
    }

    mutating func finishing(at time: Double) { if finishingAt == nil { finishingAt = time } }

    /// Moves the total deadline (a guest asking for more time); returns the new deadline.
    mutating func extendTotal(by seconds: Double) -> Double {
        totalDeadline += seconds
        return totalDeadline
    }

    /// The run's timeout that has fired at `now`, if any.
    func expired(now: Double) -> Cause? {
        if now >= totalDeadline { return .totalTimeout }
        if let finishingAt, now >= finishingAt + timeouts.shutdown { return .shutdownTimeout }
        return nil
    }

    /// The run's next deadline and its name, for the status line.
    func next() -> (name: String, at: Double) {
        if let finishingAt, finishingAt + timeouts.shutdown < totalDeadline { return ("shutdown", finishingAt + timeouts.shutdown) }
        return ("total", totalDeadline)
    }
}
