import PluginAPI

/// The mirror's requests as the journal recorded them, in order, with totals per status and
/// the bytes served: rebuilt by the recover hook, never kept from a run's memory.
final class MirrorLog: Sendable {
    private let state = Locked(State())

    private struct State {
        var requests: [JSONValue] = []
        var byStatus: [String: Int64] = [:]
        var bytesOut: Int64 = 0
        var bytesServed: Int64 = 0
    }

    func add(_ entry: JournalEntry) {
        var fields = entry.fields
        fields["time"] = .double(entry.time)
        fields["wall"] = .string(entry.wall)
        let status = String(entry.fields["status"]?.intValue ?? 0)
        let bytes = entry.fields["bytes_out"]?.intValue ?? 0
        state.withLock { state in
            state.requests.append(.object(fields))
            state.byStatus[status, default: 0] += 1
            state.bytesOut += bytes
            if status.hasPrefix("2") { state.bytesServed += bytes }
        }
    }

    var requests: [JSONValue] { state.withLock { $0.requests } }

    /// `{"count", "by_status", "bytes_out", "bytes_served"}`: `bytes_out` counts every body sent,
    /// `bytes_served` only the file bytes of 2xx answers.
    var totals: JSONValue {
        state.withLock { state in
            [
                "count": .int(Int64(state.requests.count)),
                "by_status": .object(state.byStatus.mapValues { .int($0) }),
                "bytes_out": .int(state.bytesOut),
                "bytes_served": .int(state.bytesServed),
            ]
        }
    }
}
