import PluginAPI

/// What one decision of `SyncState` does, carried out by the plug-in in this order: the records
/// (a durable one reaches stable storage before anything after it), then the replies.
struct SyncDecision {
    struct Record {
        var kind: String
        var fields: [String: JSONValue]
        /// Decides an answer the guest will see: on stable storage before that answer goes out,
        /// so a host taking the run over never contradicts it.
        var durable: Bool
    }

    var records: [Record] = []
    var replies: [(slot: WaitSlot, reply: Reply)] = []

    mutating func journal(_ kind: String, _ fields: [String: JSONValue], durable: Bool) {
        records.append(Record(kind: kind, fields: fields, durable: durable))
    }

    mutating func answer(_ slot: WaitSlot, _ reply: Reply) {
        replies.append((slot, reply))
    }
}

/// A request waiting for a decision: the guest it came from and where its reply goes.
struct Waiter {
    let id: UInt64
    let guest: String
    let slot: WaitSlot
    /// For an event: the guest expected to set it, whose death ends the wait.
    var from: String? = nil
}

/// The replies the plug-in sends: one line of plain text a shell user reads as is, and headers
/// a script can test without parsing it.
enum SyncReply {
    static func text(_ status: Int, _ line: String, _ headers: [(name: String, value: String)] = []) -> Reply {
        var reply = Reply.text(status, line + "\n")
        reply.headers += headers
        return reply
    }

    /// 410: `peer` is gone, so what the guest waits for can never happen.
    static func peerGone(_ what: String, peer: String, description: String) -> Reply {
        text(410, "\(what): guest \(peer) is gone (\(description))", [("X-Sync-Peer", peer)])
    }

    static func timedOut(_ what: String, after seconds: Double) -> Reply {
        text(408, "\(what): timed out after \(seconds.formatted()) s")
    }
}

extension Double {
    /// Seconds as a person writes them: `30`, `0.5`.
    fileprivate func formatted() -> String {
        self == rounded() && abs(self) < 1e15 ? String(Int64(self)) : String(self)
    }
}
