import PluginAPI

/// Every barrier, mutex and event of a run, and which guests are gone: a plain value changed
/// only by decisions (one at a time, see `DecisionLane`) and by the replay of its own records.
/// Each decision says what to journal and whom to answer (`SyncDecision`); nothing here waits,
/// writes or reads a clock.
struct SyncState {
    let settings: SyncSettings
    /// The run's guests, in the job's order.
    let guests: [GuestDescription]
    /// Guests that exited, crashed or were stopped, with how (in words).
    var gone: [String: String] = [:]
    var barriers: [String: Barrier] = [:]
    var mutexes: [String: SyncMutex] = [:]
    var events: [String: SyncEvent] = [:]
    /// Waits under way, by guest (the limit `max_waits_per_guest`).
    var waits: [String: Int] = [:]
    var tally = Tally()

    /// What the report counts.
    struct Tally: Equatable {
        var barriersReleased = 0
        var barriersFailed = 0
        var timeouts = 0
        var mutexGrants = 0
        var ownersDied = 0
        var eventsSet = 0
    }

    init(settings: SyncSettings, guests: [GuestDescription]) {
        self.settings = settings
        self.guests = guests
    }

    func isGuest(_ name: String) -> Bool { guests.contains { $0.name == name } }

    /// Refuses a request of a name the run does not know, or of a guest already gone.
    func checkGuest(_ guest: String) throws {
        guard isGuest(guest) else { throw GuestError(403, "guest \(guest) is not a guest of this run") }
        if let how = gone[guest] { throw GuestError(410, "guest \(guest) is gone (\(how))") }
    }

    func checkWaitAllowed(_ guest: String) throws {
        let under = waits[guest, default: 0]
        guard under < settings.maxWaitsPerGuest else {
            throw GuestError(429, "guest \(guest) already has \(under) sync waits under way (max_waits_per_guest)")
        }
    }

    mutating func startedWaiting(_ guest: String) { waits[guest, default: 0] += 1 }

    /// Answers a waiter and stops counting its wait.
    mutating func finish(_ waiter: Waiter, _ reply: Reply, _ decision: inout SyncDecision) {
        waits[waiter.guest, default: 1] -= 1
        if waits[waiter.guest] == 0 { waits[waiter.guest] = nil }
        decision.answer(waiter.slot, reply)
    }
}
