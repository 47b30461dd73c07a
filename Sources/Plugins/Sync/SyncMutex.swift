import PluginAPI

/// A mutex: one holder at a time, waiters served in the order they came. A holder that dies
/// releases it (openQA's children failed "lock owner already finished" instead); the next
/// holder is told, by `X-Sync-Previous-Owner-Died`, that what the lock guarded may be half done.
struct SyncMutex {
    var holder: String?
    var queue: [Waiter] = []
    /// The last holder died holding it, and no one has held it since.
    var ownerDied: String?
}

extension SyncState {
    mutating func lock(_ name: String, guest: String, waiter: Waiter, _ decision: inout SyncDecision) throws {
        try checkGuest(guest)
        guard mutexes[name] != nil || mutexes.count < settings.maxNames else {
            throw GuestError(429, "this run already has \(mutexes.count) mutexes (max_names)")
        }
        var mutex = mutexes[name] ?? SyncMutex()
        switch mutex.holder {
        case guest?:
            decision.answer(waiter.slot, SyncReply.text(200, "mutex \(name): already held by \(guest)", [("X-Sync-Already-Held", "true")]))
        case nil:
            mutexes[name] = mutex
            grant(name, to: guest, slots: [waiter.slot], &decision)
        case let holder?:
            try checkWaitAllowed(guest)
            startedWaiting(guest)
            mutex.queue.append(waiter)
            mutexes[name] = mutex
            decision.journal("mutex-queued", ["mutex": .string(name), "guest": .string(guest), "holder": .string(holder)], durable: false)
        }
    }

    mutating func unlock(_ name: String, guest: String, _ decision: inout SyncDecision) throws -> Reply {
        try checkGuest(guest)
        guard let holder = mutexes[name]?.holder else { throw GuestError(409, "mutex \(name) is not locked") }
        guard holder == guest else { throw GuestError(409, "mutex \(name) is held by \(holder), not \(guest)") }
        mutexes[name]?.holder = nil
        decision.journal("mutex-released", ["mutex": .string(name), "guest": .string(guest)], durable: true)
        grantNext(name, &decision)
        return SyncReply.text(200, "mutex \(name): unlocked by \(guest)")
    }

    /// Gives a free mutex to the first guest in line; every request of that guest in the line
    /// is answered (a retry queued beside the first).
    mutating func grantNext(_ name: String, _ decision: inout SyncDecision) {
        guard var mutex = mutexes[name], mutex.holder == nil, let next = mutex.queue.first else { return }
        let theirs = mutex.queue.filter { $0.guest == next.guest }
        mutex.queue.removeAll { $0.guest == next.guest }
        mutexes[name] = mutex
        for waiter in theirs {
            waits[waiter.guest, default: 1] -= 1
            if waits[waiter.guest] == 0 { waits[waiter.guest] = nil }
        }
        grant(name, to: next.guest, slots: theirs.map(\.slot), &decision)
    }

    private mutating func grant(_ name: String, to guest: String, slots: [WaitSlot], _ decision: inout SyncDecision) {
        let died = mutexes[name]?.ownerDied
        mutexes[name]?.holder = guest
        mutexes[name]?.ownerDied = nil
        var fields: [String: JSONValue] = ["mutex": .string(name), "guest": .string(guest)]
        var headers: [(name: String, value: String)] = []
        var line = "mutex \(name): locked by \(guest)"
        if let died {
            fields["previous_owner_died"] = .string(died)
            headers.append(("X-Sync-Previous-Owner-Died", died))
            line += " (the previous owner, \(died), died holding it)"
        }
        decision.journal("mutex-granted", fields, durable: true)
        tally.mutexGrants += 1
        for slot in slots { decision.answer(slot, SyncReply.text(200, line, headers)) }
    }

    mutating func mutexWaitExpired(_ id: UInt64, after seconds: Double, _ decision: inout SyncDecision) -> Bool {
        guard let name = mutexes.first(where: { $0.value.queue.contains { $0.id == id } })?.key,
            let index = mutexes[name]?.queue.firstIndex(where: { $0.id == id }), let waiter = mutexes[name]?.queue.remove(at: index)
        else { return false }
        decision.journal("mutex-timeout", ["mutex": .string(name), "guest": .string(waiter.guest), "after": .double(seconds)], durable: false)
        tally.timeouts += 1
        finish(waiter, SyncReply.timedOut("mutex \(name)", after: seconds), &decision)
        return true
    }

    /// A dead guest's mutexes are released and handed on; its place in any line is dropped.
    mutating func releaseMutexes(of dead: String, _ decision: inout SyncDecision) {
        for name in mutexes.keys.sorted() {
            if let dropped = mutexes[name]?.queue.filter({ $0.guest == dead }), !dropped.isEmpty {
                mutexes[name]?.queue.removeAll { $0.guest == dead }
                for waiter in dropped { finish(waiter, SyncReply.text(410, "guest \(dead) is gone"), &decision) }
            }
            guard mutexes[name]?.holder == dead else { continue }
            mutexes[name]?.holder = nil
            mutexes[name]?.ownerDied = dead
            decision.journal("mutex-owner-died", ["mutex": .string(name), "guest": .string(dead), "description": .string(gone[dead] ?? "gone")], durable: true)
            tally.ownersDied += 1
            grantNext(name, &decision)
        }
    }
}
