/// Which connections the host holds, and which to give up when a new one arrives and all the
/// places are taken: the pure bookkeeping of `ConnectionBudget`, with no socket and no clock.
///
/// Until a connection has presented the run token it is *unproven*. A new connection that finds
/// the table full takes the place of the oldest unproven connection that has had its probation
/// (`probation` nanoseconds to present the token); only when there is none is it refused. So a
/// flood of connections without the token — held idle, or trickling header bytes — cannot keep
/// the guest out: its next connection is admitted at once, and it has the probation to present
/// the token, however fast the flood comes. Proven connections are never given up for a
/// newcomer. A burst that arrives within one probation is refused past the limit, as before.
struct ConnectionTable<Connection> {
    /// How long a new connection is kept, whatever comes after it, to present the token: long
    /// enough for a guest behind a VM's user-mode network to send its first head.
    static var defaultProbation: UInt64 { 1_000_000_000 }

    enum Admission {
        case admitted(id: UInt64)
        /// Admitted in place of `dropped`, which the caller closes.
        case admittedDropping(id: UInt64, dropped: Connection, droppedAge: UInt64)
        /// Refused: `open` connections are held, none of them may be given up.
        case refused(open: Int)
    }

    private struct Entry {
        let connection: Connection
        let admitted: UInt64
        var proven = false
    }

    let limit: Int
    let probation: UInt64
    private var entries: [UInt64: Entry] = [:]
    private var nextID: UInt64 = 0
    private(set) var unprovenCount = 0

    init(limit: Int, probation: UInt64 = Self.defaultProbation) {
        self.limit = limit
        self.probation = probation
    }

    var count: Int { entries.count }

    /// A new connection at `now` (monotonic nanoseconds).
    mutating func admit(_ connection: Connection, now: UInt64) -> Admission {
        if entries.count < limit { return .admitted(id: insert(connection, now: now)) }
        guard unprovenCount > 0, let victim = oldestUnproven(), now &- victim.entry.admitted >= probation else {
            return .refused(open: entries.count)
        }
        remove(victim.id)
        return .admittedDropping(id: insert(connection, now: now), dropped: victim.entry.connection, droppedAge: now &- victim.entry.admitted)
    }

    /// The connection presented the run token: it is never given up for a newcomer.
    mutating func prove(_ id: UInt64) {
        guard let entry = entries[id], !entry.proven else { return }
        entries[id]!.proven = true
        unprovenCount -= 1
    }

    /// The connection closed (or was dropped already: then nothing happens).
    mutating func release(_ id: UInt64) {
        remove(id)
    }

    func isProven(_ id: UInt64) -> Bool? { entries[id]?.proven }

    private mutating func insert(_ connection: Connection, now: UInt64) -> UInt64 {
        nextID += 1
        entries[nextID] = Entry(connection: connection, admitted: now)
        unprovenCount += 1
        return nextID
    }

    private mutating func remove(_ id: UInt64) {
        guard let entry = entries.removeValue(forKey: id) else { return }
        if !entry.proven { unprovenCount -= 1 }
    }

    /// A scan, but only when the table is full; ids grow with admission, so the smallest
    /// unproven id is the oldest.
    private func oldestUnproven() -> (id: UInt64, entry: Entry)? {
        var best: (id: UInt64, entry: Entry)?
        for (id, entry) in entries where !entry.proven && id < (best?.id ?? .max) { best = (id, entry) }
        return best
    }
}
