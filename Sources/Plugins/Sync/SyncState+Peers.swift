import PluginAPI

extension SyncState {
    /// A guest exited, crashed or was stopped: every wait it makes impossible ends now with 410
    /// naming it — not at the waiters' timeouts, where LAVA's waiters notice a dead peer.
    mutating func guestGone(_ guest: String, description: String, _ decision: inout SyncDecision) {
        guard isGuest(guest), gone[guest] == nil else { return }
        gone[guest] = description
        // In a run of one guest its exit is the run's end, with nothing left to synchronise:
        // the journals of single-guest jobs stay as they were.
        if guests.count > 1 {
            decision.journal("peer-gone", ["guest": .string(guest), "description": .string(description)], durable: true)
        }
        for name in barriers.keys.sorted() where barriers[name]?.outcome == nil {
            if let peer = barriers[name]?.deadParty(gone: gone, guests: guests) { failBarrier(name, peer: peer, &decision) }
        }
        releaseMutexes(of: guest, &decision)
        for name in events.keys.sorted() where events[name]?.body == nil {
            guard let waiters = events[name]?.waiters else { continue }
            for waiter in waiters {
                let named = waiter.guest == guest || waiter.from == guest
                guard let peer = named ? guest : (waiter.from == nil ? noOneLeftToSet(besides: waiter.guest) : nil) else { continue }
                events[name]?.waiters.removeAll { $0.id == waiter.id }
                let how = named ? description : "every other guest is gone"
                finish(waiter, SyncReply.peerGone("event \(name)", peer: peer, description: how), &decision)
            }
        }
    }

    /// Rebuilds the state from one of the plug-in's own records (a host taking the run over, or
    /// the report). The waits themselves are not rebuilt: their connections died with the old
    /// host, and the guests' retries come back as new waits.
    mutating func replay(_ entry: JournalEntry) {
        let fields = entry.fields
        let guest = fields["guest"]?.stringValue ?? ""
        switch entry.kind {
        case "barrier-arrived":
            guard let name = fields["barrier"]?.stringValue, let parties = Barrier.Parties(fields: fields) else { return }
            var barrier = barriers[name] ?? Barrier(parties: parties)
            if !barrier.arrived.contains(guest) { barrier.arrived.append(guest) }
            barriers[name] = barrier
        case "barrier-released":
            guard let name = fields["barrier"]?.stringValue, case .array(let parties)? = fields["parties"] else { return }
            barriers[name, default: Barrier(parties: .count(parties.count))].outcome = .released(parties: parties.compactMap(\.stringValue))
            tally.barriersReleased += 1
        case "barrier-failed":
            guard let name = fields["barrier"]?.stringValue, let peer = fields["peer"]?.stringValue else { return }
            let how = fields["description"]?.stringValue ?? "gone"
            barriers[name, default: Barrier(parties: .count(1))].outcome = .failed(peer: peer, description: how)
            tally.barriersFailed += 1
        case "barrier-timeout":
            tally.timeouts += 1
            guard let name = fields["barrier"]?.stringValue, fields["withdrawn"] == .bool(true), var barrier = barriers[name] else { return }
            barrier.arrived.removeAll { $0 == guest }
            barriers[name] = barrier.arrived.isEmpty && barrier.outcome == nil ? nil : barrier
        case "mutex-granted":
            guard let name = fields["mutex"]?.stringValue else { return }
            mutexes[name, default: SyncMutex()].holder = guest
            mutexes[name]?.ownerDied = nil
            tally.mutexGrants += 1
        case "mutex-released":
            guard let name = fields["mutex"]?.stringValue else { return }
            mutexes[name]?.holder = nil
        case "mutex-owner-died":
            guard let name = fields["mutex"]?.stringValue else { return }
            mutexes[name, default: SyncMutex()].holder = nil
            mutexes[name]?.ownerDied = guest
            tally.ownersDied += 1
        case "mutex-timeout", "event-timeout":
            tally.timeouts += 1
        case "event-set":
            guard let name = fields["event"]?.stringValue, let value = fields["value"] else { return }
            events[name, default: SyncEvent()].body = value.encoded(pretty: false)
            events[name]?.sender = guest
            tally.eventsSet += 1
        case "peer-gone":
            gone[guest] = fields["description"]?.stringValue ?? "gone"
        default:
            break
        }
    }

    /// Everything at a glance, for `GET /sync/status` (a person, or a script with jq).
    var status: JSONValue {
        var barrierList: [String: JSONValue] = [:]
        for (name, barrier) in barriers {
            var fields = barrier.parties.fields
            fields["arrived"] = .array(barrier.arrived.map { .string($0) })
            fields["waiting"] = .int(Int64(barrier.waiters.count))
            switch barrier.outcome {
            case .released?: fields["state"] = "released"
            case .failed(let peer, _)?: fields["state"] = "failed"; fields["peer"] = .string(peer)
            case nil: fields["state"] = "waiting"
            }
            barrierList[name] = .object(fields)
        }
        var mutexList: [String: JSONValue] = [:]
        for (name, mutex) in mutexes {
            mutexList[name] = .object([
                "holder": mutex.holder.map { .string($0) } ?? .null, "waiting": .array(mutex.queue.map { .string($0.guest) }),
            ])
        }
        var eventList: [String: JSONValue] = [:]
        for (name, event) in events {
            eventList[name] = .object(["set_by": event.sender.map { .string($0) } ?? .null, "waiting": .int(Int64(event.waiters.count))])
        }
        return .object([
            "barriers": .object(barrierList), "mutexes": .object(mutexList), "events": .object(eventList),
            "gone": .object(gone.mapValues { .string($0) }),
        ])
    }
}
