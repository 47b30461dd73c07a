import FoundationEssentials
import PluginAPI

#if canImport(Glibc)
import Glibc
#endif

/// Where a run whose host died stands, read from its journal alone: the job, each living
/// guest's pid, the clock, each guest's token digest — what `run --resume` needs to take it over.
struct ResumePoint {
    let job: Job
    let entries: [JournalEntry]
    let droppedBytes: Int
    /// The guests alive now, by name (those the journal shows gone are not taken over).
    let pids: [String: pid_t]
    let clock: RunClock
    let tokens: GuestTokens?

    /// The first living guest's pid.
    var pid: pid_t { job.guests.compactMap { pids[$0.name] }.first ?? 0 }

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

        let several = job.guests.count > 1
        func guestName(_ entry: JournalEntry) -> String? {
            several ? entry.fields["guest"]?.stringValue : job.guests[0].name
        }
        var launched: [String: JournalEntry] = [:]
        var gone: Set<String> = []
        for entry in entries where entry.source == "host" {
            guard let name = guestName(entry) else { continue }
            switch entry.kind {
            case "guest-launched": launched[name] = entry
            case "guest-exited", "guest-launch-failed": gone.insert(name)
            default: break
            }
        }
        guard !launched.isEmpty else { throw ResumeError.guestNeverLaunched }
        var pids: [String: pid_t] = [:]
        var lost: [pid_t] = []
        for (name, record) in launched where !gone.contains(name) {
            guard let pid = record.fields["pid"]?.intValue.map({ pid_t($0) }) else { continue }
            let recordedStart = record.fields["start_time"]?.intValue
            if kill(pid, 0) == 0, recordedStart == nil || Guest.startTime(of: pid) == recordedStart {
                pids[name] = pid
            } else {
                lost.append(pid)
            }
        }
        guard !pids.isEmpty else {
            throw ResumeError.guestGone(lost.first ?? launched.values.first?.fields["pid"]?.intValue.map { pid_t($0) } ?? 0)
        }
        var tokens: GuestTokens?
        if job.token != .none {
            if several {
                let digests = prepared.fields["guest_tokens_sha256"]?.objectValue ?? [:]
                var known: [GuestTokens.Entry] = []
                for guest in job.guests {
                    guard let digest = digests[guest.name]?.stringValue, let token = RunToken(digestHex: digest) else { throw ResumeError.noJob }
                    known.append(GuestTokens.Entry(guest: guest.name, token: token))
                }
                tokens = GuestTokens(known)
            } else {
                guard let digest = prepared.fields["token_sha256"]?.stringValue, let known = RunToken(digestHex: digest) else {
                    throw ResumeError.noJob
                }
                tokens = GuestTokens(single: known, guest: job.guests[0].name)
            }
        }
        return ResumePoint(
            job: job, entries: entries, droppedBytes: contents.droppedBytes, pids: pids,
            clock: RunClock.continuing(entries), tokens: tokens)
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
