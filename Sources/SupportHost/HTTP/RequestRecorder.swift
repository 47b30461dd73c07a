import NIOHTTP1
import PluginAPI

/// Writes the journal's `request` records and counts bytes out as guest activity: one record
/// per request, when its reply has been sent (or could not be).
struct RequestRecorder: Sendable {
    let journal: Journal
    let activity: Activity
    let clock: RunClock

    /// The reply left (or the connection failed while it was leaving).
    func replySent(_ record: RequestRecord, failed: Bool) {
        activity.bytes(out: Int(record.bytesOut), guest: record.guest)
        guard failed else {
            journal.append(source: record.source, kind: "request", encodedFields: record.encodedFields(now: clock.elapsed))
            return
        }
        var record = record
        record.note("client gone before the reply was sent")
        journal.append(source: record.source, kind: "request", encodedFields: record.encodedFields(now: clock.elapsed))
    }

    /// An import hook answered after its client hung up: nobody hears the answer, the journal does.
    func unanswered(_ record: RequestRecord) {
        var record = record
        record.note("client gone before the reply was sent")
        journal.append(source: record.source, kind: "request", encodedFields: record.encodedFields(now: clock.elapsed))
    }

    /// A request the codec could not parse: no method, no path, only why.
    func malformed(status: HTTPResponseStatus, _ error: HTTPParserError) {
        journal.append(source: "host", kind: "request", fields: [
            "method": "", "path": "", "status": .int(Int64(status.code)), "bytes_in": 0, "bytes_out": 0, "duration": 0,
            "reason": .string("malformed request: \(error)"),
        ])
    }
}
