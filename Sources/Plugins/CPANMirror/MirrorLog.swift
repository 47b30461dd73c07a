import PluginAPI
import SupportKit

/// The mirror's requests as the journal recorded them, in order, with totals per status and
/// the bytes served: rebuilt by the recover hook, never kept from a run's memory.
///
/// The report lists only the first `listedRequests`: a long run makes millions, and a report
/// of hundreds of megabytes helps nobody. The totals count every request.
final class MirrorLog: Sendable {
    static let listedRequests = 1000

    private let state = Locked(State())

    private struct State {
        var listed: [JSONValue] = []
        var count: Int64 = 0
        var byStatus: [Int64: Int64] = [:]
        var bytesOut: Int64 = 0
        var bytesServed: Int64 = 0
    }

    func add(_ entry: JournalEntry) {
        let status = entry.field("status")?.intValue ?? 0
        let bytes = entry.field("bytes_out")?.intValue ?? 0
        let served = Self.leadingDigit(status) == 2
        state.withLock { state in
            if state.listed.count < Self.listedRequests {
                var fields = entry.fields
                fields["time"] = .double(entry.time)
                fields["wall"] = .string(entry.wall)
                state.listed.append(.object(fields))
            }
            state.count += 1
            state.byStatus[status, default: 0] += 1
            state.bytesOut += bytes
            if served { state.bytesServed += bytes }
        }
    }

    /// The first decimal digit of a status (-1 for a negative one): a 2xx answer begins with 2.
    private static func leadingDigit(_ status: Int64) -> Int64 {
        guard status >= 0 else { return -1 }
        var status = status
        while status >= 10 { status /= 10 }
        return status
    }

    /// The first `listedRequests` requests, in journal order.
    var requests: [JSONValue] { state.withLock { $0.listed } }

    /// How many requests the list leaves out (0 unless there were more than `listedRequests`).
    var omitted: Int64 { state.withLock { $0.count - Int64($0.listed.count) } }

    /// `{"count", "by_status", "bytes_out", "bytes_served"}` over every request: `bytes_out`
    /// counts every body sent, `bytes_served` only the file bytes of 2xx answers.
    var totals: JSONValue {
        state.withLock { state in
            [
                "count": .int(state.count),
                "by_status": .object(Dictionary(uniqueKeysWithValues: state.byStatus.map { (String($0.key), JSONValue.int($0.value)) })),
                "bytes_out": .int(state.bytesOut),
                "bytes_served": .int(state.bytesServed),
            ]
        }
    }
}
