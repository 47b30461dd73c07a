/// One guest's own deadlines on the run clock: startup (launch → its first ping) and activity
/// (since its last request or body bytes, once it has started). Each guest of a run has one,
/// with its own timeouts; the run's total and shutdown deadlines are the run's `Watchdog`'s.
struct GuestWatchdog {
    let startup: Double
    let activity: Double
    private(set) var launchedAt: Double?
    private(set) var startedAt: Double?

    init(startup: Double, activity: Double) {
        self.startup = startup
        self.activity = activity
    }

    mutating func launched(at time: Double) { launchedAt = time }
    mutating func started(at time: Double) { if startedAt == nil { startedAt = time } }

    /// The guest's timeout that has fired at `now`, if any, given its last activity.
    func expired(now: Double, lastActivity: Double) -> Watchdog.Cause? {
        if startedAt == nil, let launchedAt, now >= launchedAt + startup { return .startupTimeout }
        if let startedAt, now >= max(startedAt, lastActivity) + activity { return .activityTimeout }
        return nil
    }

    /// The guest's next deadline, if it has one yet.
    func next(lastActivity: Double) -> (name: String, at: Double)? {
        if startedAt == nil, let launchedAt { return ("startup", launchedAt + startup) }
        if let startedAt { return ("activity", max(startedAt, lastActivity) + activity) }
        return nil
    }
}
