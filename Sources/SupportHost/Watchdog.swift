/// The guest watchdog: the four deadlines of a run on the monotonic run clock.
///
/// startup: launch → first ping. activity: since the guest's last request or body bytes (only
/// once it has started). total: the whole run. shutdown: once the last required result is in,
/// the time the guest has to exit by itself.
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
    }

    let timeouts: Job.Timeouts
    private(set) var launchedAt: Double?
    private(set) var startedAt: Double?
    private(set) var finishingAt: Double?
    private(set) var totalDeadline: Double

    init(timeouts: Job.Timeouts, now: Double) {
        self.timeouts = timeouts
        totalDeadline = now + timeouts.total
    }

    mutating func launched(at time: Double) { launchedAt = time }
    mutating func started(at time: Double) { if startedAt == nil { startedAt = time } }
    mutating func finishing(at time: Double) { if finishingAt == nil { finishingAt = time } }

    /// Moves the total deadline (a guest asking for more time); returns the new deadline.
    mutating func extendTotal(by seconds: Double) -> Double {
        totalDeadline += seconds
        return totalDeadline
    }

    /// The timeout that has fired at `now`, if any, given the time of the last activity.
    func expired(now: Double, lastActivity: Double) -> Cause? {
        if now >= totalDeadline { return .totalTimeout }
        if let finishingAt, now >= finishingAt + timeouts.shutdown { return .shutdownTimeout }
        if startedAt == nil, let launchedAt, now >= launchedAt + timeouts.startup { return .startupTimeout }
        if let startedAt, now >= max(startedAt, lastActivity) + timeouts.activity { return .activityTimeout }
        return nil
    }

    /// The next deadline and its name, for the status line.
    func next(lastActivity: Double) -> (name: String, at: Double) {
        var candidates = [("total", totalDeadline)]
        if let finishingAt { candidates.append(("shutdown", finishingAt + timeouts.shutdown)) }
        if startedAt == nil, let launchedAt { candidates.append(("startup", launchedAt + timeouts.startup)) }
        if let startedAt { candidates.append(("activity", max(startedAt, lastActivity) + timeouts.activity)) }
        return candidates.min { $0.1 < $1.1 }!
    }
}
