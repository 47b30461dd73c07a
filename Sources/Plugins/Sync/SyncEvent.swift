import FoundationEssentials
import PluginAPI

/// An event (LAVA's `lava-send`/`lava-wait`): set once by a guest with a small JSON body, read
/// by any guest once it exists; a waiter that comes first waits for it.
struct SyncEvent {
    /// The body as compact JSON, and who set it; nil until it is set.
    var body: Data?
    var sender: String?
    var waiters: [Waiter] = []
}

extension SyncState {
    /// The reply that hands an event's body to a guest.
    static func eventReply(_ body: Data, sender: String) -> Reply {
        Reply(status: 200, headers: [("Content-Type", "application/json"), ("X-Sync-Sender", sender)], body: .bytes(body + Data("\n".utf8)))
    }

    mutating func setEvent(_ name: String, guest: String, value: JSONValue, _ decision: inout SyncDecision) throws -> Reply {
        try checkGuest(guest)
        let body = value.encoded(pretty: false)
        if let existing = events[name], let set = existing.body {
            guard set == body else { throw GuestError(409, "event \(name) was already set by \(existing.sender ?? "?") with another body") }
            return SyncReply.text(200, "event \(name): already set with this body", [("X-Sync-Already-Set", "true")])
        }
        guard events[name] != nil || events.count < settings.maxNames else {
            throw GuestError(429, "this run already has \(events.count) events (max_names)")
        }
        var event = events[name] ?? SyncEvent()
        event.body = body
        event.sender = guest
        decision.journal("event-set", ["event": .string(name), "guest": .string(guest), "value": value], durable: true)
        tally.eventsSet += 1
        let told = event.waiters.count
        for waiter in event.waiters { finish(waiter, Self.eventReply(body, sender: guest), &decision) }
        event.waiters = []
        events[name] = event
        return SyncReply.text(200, "event \(name): set by \(guest) (\(told) waiting requests told)")
    }

    /// Waits for event `name`; with `from`, for that guest to set it (Beaker's
    /// `rhts-sync-block` names the hosts it waits for), so its death ends the wait at once.
    mutating func waitForEvent(_ name: String, guest: String, from: String?, waiter: Waiter, _ decision: inout SyncDecision) throws {
        try checkGuest(guest)
        if let from, !isGuest(from) { throw GuestError(400, "from=\(from): no such guest in this run") }
        var waiter = waiter
        waiter.from = from
        if let event = events[name], let body = event.body {
            return decision.answer(waiter.slot, Self.eventReply(body, sender: event.sender ?? "?"))
        }
        if let from, let how = gone[from] {
            return decision.answer(waiter.slot, SyncReply.peerGone("event \(name)", peer: from, description: how))
        }
        if from == nil, let peer = noOneLeftToSet(besides: guest) {
            return decision.answer(waiter.slot, SyncReply.peerGone("event \(name)", peer: peer, description: "every other guest is gone"))
        }
        guard events[name] != nil || events.count < settings.maxNames else {
            throw GuestError(429, "this run already has \(events.count) events (max_names)")
        }
        try checkWaitAllowed(guest)
        startedWaiting(guest)
        events[name, default: SyncEvent()].waiters.append(waiter)
    }

    /// In a run of several guests where all but `guest` are gone, the last one of them to go:
    /// nobody else can set the event. (A guest may set an event it waits for from another of
    /// its processes, so a run of one guest never says so.)
    func noOneLeftToSet(besides guest: String) -> String? {
        let others = guests.filter { $0.name != guest }
        guard !others.isEmpty, others.allSatisfy({ gone[$0.name] != nil }) else { return nil }
        return others.last?.name
    }

    mutating func eventWaitExpired(_ id: UInt64, after seconds: Double, _ decision: inout SyncDecision) -> Bool {
        guard let name = events.first(where: { $0.value.waiters.contains { $0.id == id } })?.key,
            let index = events[name]?.waiters.firstIndex(where: { $0.id == id }), let waiter = events[name]?.waiters.remove(at: index)
        else { return false }
        if events[name]?.body == nil, events[name]?.waiters.isEmpty == true { events[name] = nil }
        decision.journal("event-timeout", ["event": .string(name), "guest": .string(waiter.guest), "after": .double(seconds)], durable: false)
        tally.timeouts += 1
        finish(waiter, SyncReply.timedOut("event \(name)", after: seconds), &decision)
        return true
    }
}
