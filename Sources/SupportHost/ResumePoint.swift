import Foundation
import PluginAPI

#if canImport(Glibc)
import Glibc
#endif

/// Where a run whose host died stands, read from its journal alone: the job, the guest's pid,
/// the clock, the token's digest — what `run --resume` needs to take it over.
struct ResumePoint {
    let job: Job
    let entries: [JournalEntry]
    let droppedBytes: Int
    let pid: pid_t
    let clock: RunClock
    let token: RunToken?

    static func read(_ directory: RunDirectory) async throws -> ResumePoint {
        let contents = try Recovery.readCuttingTornTail(directory)
        let entries = contents.entries
        if let outcome = entries.last(where: { $0.source == "host" && $0.kind == "outcome" })?.fields["outcome"]?.stringValue {
            throw ResumeError.alreadyEnded(outcome)
        }
        guard let prepared = entries.first(where: { $0.source == "host" && $0.kind == "run-prepared" }),
            let jobFile = prepared.fields["job"]
        else { throw ResumeError.noJob }
        var settings = try JobSettings.parse(jobFile.encoded(pretty: false))
        if let listening = entries.last(where: { $0.source == "host" && $0.kind == "listening" }),
            let port = listening.fields["port"]?.intValue
        {
            settings.listenPort = Int(port)
        }
        settings.runDirectory = directory.url.path
        let job = try Job(settings)

        guard let launched = entries.last(where: { $0.source == "host" && $0.kind == "guest-launched" }),
            let pid = launched.fields["pid"]?.intValue.map({ pid_t($0) })
        else { throw ResumeError.guestNeverLaunched }
        let recordedStart = launched.fields["start_time"]?.intValue
        guard kill(pid, 0) == 0, recordedStart == nil || Guest.startTime(of: pid) == recordedStart else {
            throw ResumeError.guestGone(pid)
        }
        var token: RunToken?
        if job.token != .none {
            guard let digest = prepared.fields["token_sha256"]?.stringValue, let known = RunToken(digestHex: digest) else {
                throw ResumeError.noJob
            }
            token = known
        }
        return ResumePoint(
            job: job, entries: entries, droppedBytes: contents.droppedBytes, pid: pid,
            clock: RunClock.continuing(entries), token: token)
    }
}

public enum ResumeError: Error, CustomStringConvertible {
    case alreadyEnded(String)
    case noJob
    case guestNeverLaunched
    case guestGone(pid_t)

    public var description: String {
        switch self {
        case .alreadyEnded(let outcome): return "the run already ended (\(outcome)); nothing to take over"
        case .noJob: return "the journal does not hold the run's job (not a SupportHost run directory?)"
        case .guestNeverLaunched: return "the guest was never launched; nothing to take over"
        case .guestGone(let pid): return "the guest (pid \(pid)) is gone; use `support-host recover` to write the report"
        }
    }
}
