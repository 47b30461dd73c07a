import PluginAPI

/// A barrier: made by its first arrival (no one has to create it first — openQA's barriers
/// failed a waiter that came before `barrier_create`), released when every party has arrived,
/// failed for good when a party is gone. A name is used once: after its release a party's
/// retry passes at once; a new round takes a new name.
struct Barrier {
    /// Who must arrive: the named guests (all of them, or those of a role), or any `count`.
    enum Parties: Equatable {
        case guests([String], role: String?)
        case count(Int)

        var summary: String {
            switch self {
            case .guests(let names, nil): return "all \(names.count) guests"
            case .guests(let names, let role?): return "the \(names.count) guests of role \(role)"
            case .count(let count): return "\(count) guests"
            }
        }

        var fields: [String: JSONValue] {
            switch self {
            case .guests(let names, let role):
                return ["parties": .array(names.map { .string($0) }), "role": role.map { .string($0) } ?? .null]
            case .count(let count): return ["count": .int(Int64(count))]
            }
        }

        init?(fields: [String: JSONValue]) {
            if let count = fields["count"]?.intValue {
                self = .count(Int(count))
            } else if case .array(let names)? = fields["parties"] {
                self = .guests(names.compactMap(\.stringValue), role: fields["role"]?.stringValue)
            } else {
                return nil
            }
        }
    }

    enum Outcome: Equatable {
        case released(parties: [String])
        case failed(peer: String, description: String)
    }

    var parties: Parties
    /// Guests that arrived and wait, in order of arrival; one entry per guest however often it
    /// retries.
    var arrived: [String] = []
    var waiters: [Waiter] = []
    var outcome: Outcome?

    var isComplete: Bool {
        switch parties {
        case .guests(let names, _): return names.allSatisfy(arrived.contains)
        case .count(let count): return arrived.count >= count
        }
    }

    /// The gone guest that makes this barrier impossible, if any: a party that arrived and died
    /// before the release, a named party, or — for a count — so many that too few are left.
    func deadParty(gone: [String: String], guests: [GuestDescription]) -> String? {
        if let peer = arrived.first(where: { gone[$0] != nil }) { return peer }
        switch parties {
        case .guests(let names, _):
            return names.first { gone[$0] != nil }
        case .count(let count):
            let stillPossible = guests.filter { gone[$0.name] == nil && !arrived.contains($0.name) }.count
            guard arrived.count + stillPossible < count else { return nil }
            return guests.first { gone[$0.name] != nil && !arrived.contains($0.name) }?.name
        }
    }
}

extension SyncState {
    /// Who must arrive at a new barrier, from the first arrival's `count` or `role`.
    func parties(count: Int?, role: String?, guest: String) throws -> Barrier.Parties {
        switch (count, role) {
        case (_?, _?):
            throw GuestError(400, "give count or role, not both")
        case (let count?, nil):
            guard (1...guests.count).contains(count) else {
                throw GuestError(400, "count must be 1 to \(guests.count) (the run's guests)")
            }
            return .count(count)
        case (nil, let role?):
            let names = guests.filter { $0.role == role }.map(\.name)
            guard !names.isEmpty else { throw GuestError(400, "no guest of this run has role \(role)") }
            return .guests(names, role: role)
        case (nil, nil):
            return .guests(guests.map(\.name), role: nil)
        }
    }

    /// `guest` arrives at barrier `name`: it waits, or the barrier is released (everyone is
    /// answered in this same step), or it cannot be passed.
    mutating func arrive(
        at name: String, guest: String, count: Int?, role: String?, requestID: String?, waiter: Waiter,
        _ decision: inout SyncDecision
    ) throws {
        try checkGuest(guest)
        let what = "barrier \(name)"
        var barrier: Barrier
        if let existing = barriers[name] {
            barrier = existing
            switch barrier.outcome {
            case .released(let parties)?:
                guard parties.contains(guest) else {
                    throw GuestError(409, "\(what) was already released (parties: \(parties.joined(separator: " "))); use a new name for a new round")
                }
                return decision.answer(waiter.slot, passed(what, parties, earlier: true))
            case .failed(let peer, let how)?:
                return decision.answer(waiter.slot, SyncReply.peerGone(what, peer: peer, description: how))
            case nil:
                break
            }
            if count != nil || role != nil {
                let asked = try parties(count: count, role: role, guest: guest)
                guard asked == barrier.parties else {
                    throw GuestError(409, "\(what) waits for \(barrier.parties.summary), not \(asked.summary)")
                }
            }
        } else {
            guard barriers.count < settings.maxNames else {
                throw GuestError(429, "this run already has \(barriers.count) barriers (max_names)")
            }
            barrier = Barrier(parties: try parties(count: count, role: role, guest: guest))
        }
        if case .guests(let names, let role?) = barrier.parties, !names.contains(guest) {
            throw GuestError(403, "\(what) is for the guests of role \(role); \(guest) is not one")
        }
        try checkWaitAllowed(guest)
        if !barrier.arrived.contains(guest) {
            barrier.arrived.append(guest)
            var fields = barrier.parties.fields
            fields["barrier"] = .string(name)
            fields["guest"] = .string(guest)
            if let requestID { fields["request_id"] = .string(requestID) }
            decision.journal("barrier-arrived", fields, durable: false)
        }
        startedWaiting(guest)
        barrier.waiters.append(waiter)
        barriers[name] = barrier
        if let peer = barrier.deadParty(gone: gone, guests: guests) {
            failBarrier(name, peer: peer, &decision)
        } else if barrier.isComplete {
            releaseBarrier(name, &decision)
        }
    }

    /// Every waiter passes in this one step: the last arrival's.
    mutating func releaseBarrier(_ name: String, _ decision: inout SyncDecision) {
        guard var barrier = barriers[name] else { return }
        let parties = barrier.arrived
        barrier.outcome = .released(parties: parties)
        decision.journal("barrier-released", ["barrier": .string(name), "parties": .array(parties.map { .string($0) })], durable: true)
        for waiter in barrier.waiters { finish(waiter, passed("barrier \(name)", parties, earlier: false), &decision) }
        barrier.waiters = []
        barriers[name] = barrier
        tally.barriersReleased += 1
    }

    mutating func failBarrier(_ name: String, peer: String, _ decision: inout SyncDecision) {
        guard var barrier = barriers[name] else { return }
        let how = gone[peer] ?? "gone"
        barrier.outcome = .failed(peer: peer, description: how)
        decision.journal(
            "barrier-failed",
            ["barrier": .string(name), "peer": .string(peer), "description": .string(how),
             "waiting": .array(barrier.waiters.map { .string($0.guest) })],
            durable: true)
        for waiter in barrier.waiters { finish(waiter, SyncReply.peerGone("barrier \(name)", peer: peer, description: how), &decision) }
        barrier.waiters = []
        barriers[name] = barrier
        tally.barriersFailed += 1
    }

    /// A wait at a barrier ran out: that request gets 408 and, unless another request of the
    /// same guest still waits there, the guest's arrival is withdrawn (it has gone on).
    mutating func barrierWaitExpired(_ id: UInt64, after seconds: Double, _ decision: inout SyncDecision) -> Bool {
        guard let name = barriers.first(where: { $0.value.waiters.contains { $0.id == id } })?.key,
            var barrier = barriers[name], let index = barrier.waiters.firstIndex(where: { $0.id == id })
        else { return false }
        let waiter = barrier.waiters.remove(at: index)
        let withdrawn = !barrier.waiters.contains { $0.guest == waiter.guest }
        if withdrawn { barrier.arrived.removeAll { $0 == waiter.guest } }
        barriers[name] = barrier.arrived.isEmpty ? nil : barrier
        decision.journal(
            "barrier-timeout",
            ["barrier": .string(name), "guest": .string(waiter.guest), "after": .double(seconds), "withdrawn": .bool(withdrawn)],
            durable: true)
        tally.timeouts += 1
        finish(waiter, SyncReply.timedOut("barrier \(name)", after: seconds), &decision)
        return true
    }

    private func passed(_ what: String, _ parties: [String], earlier: Bool) -> Reply {
        SyncReply.text(
            200, "\(what): passed\(earlier ? " (released earlier)" : ""), \(parties.count) guests: \(parties.joined(separator: " "))",
            [("X-Sync-Parties", parties.joined(separator: ","))])
    }
}
