import NIOCore
import Synchronization

/// The server's connections, shared by every event loop: admits, drops and refuses them by the
/// rule of `ConnectionTable`, and journals each drop and refusal.
final class ConnectionBudget: Sendable {
    private let table: Mutex<ConnectionTable<any Channel>>
    private let journal: Journal

    init(limit: Int, journal: Journal, probation: UInt64 = ConnectionTable<any Channel>.defaultProbation) {
        table = Mutex(ConnectionTable(limit: limit, probation: probation))
        self.journal = journal
    }

    var limit: Int { table.withLock { $0.limit } }
    var count: Int { table.withLock { $0.count } }
    var unprovenCount: Int { table.withLock { $0.unprovenCount } }

    /// Admits `channel` and returns its id, or journals the refusal, closes it and returns nil.
    /// A connection given up for it is journaled and closed (from whichever loop; `close` is
    /// thread-safe).
    func admit(_ channel: any Channel) -> UInt64? {
        let now = NIODeadline.now().uptimeNanoseconds
        let admission = table.withLock { $0.admit(channel, now: now) }
        switch admission {
        case .admitted(let id):
            channel.closeFuture.whenComplete { _ in self.release(id) }
            return id
        case .admittedDropping(let id, let dropped, let age):
            channel.closeFuture.whenComplete { _ in self.release(id) }
            journal.append(source: "host", kind: "connection-dropped", fields: [
                "limit": .int(Int64(limit)), "age": .double((Double(age) / 1e6).rounded() / 1e3),
                "reason": "the oldest connection that had not presented the run token, given up for a new one",
            ])
            dropped.close(promise: nil)
            return id
        case .refused(let open):
            // Over the limit: refused at once; the guest's own (proven) connections are unaffected.
            journal.append(source: "host", kind: "connection-refused", fields: [
                "open": .int(Int64(open)), "limit": .int(Int64(limit)),
            ])
            channel.close(promise: nil)
            return nil
        }
    }

    func prove(_ id: UInt64) { table.withLock { $0.prove(id) } }

    private func release(_ id: UInt64) { table.withLock { $0.release(id) } }
}
