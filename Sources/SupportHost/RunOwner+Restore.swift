import FoundationEssentials
import PluginAPI

#if canImport(Glibc)
import Glibc
#endif

/// Continuing a run from its journal after a host crash (`run --resume`): what the earlier
/// host decided stands, every guest still alive is taken over by pid, and a stop that was
/// under way starts over.
extension RunOwner {
    /// A run of one guest.
    mutating func restore(from entries: [JournalEntry], pid: pid_t) {
        restore(from: entries, pids: [guests[0].name: pid])
    }

    /// `pids`: the guests alive now, by name; a guest without one that the journal does not
    /// show gone has ended while no host watched it.
    mutating func restore(from entries: [JournalEntry], pids: [String: pid_t]) {
        let now = clock.elapsed
        for entry in entries where entry.source == "host" {
            guard let guest = index(of: entry.fields["guest"]?.stringValue) else { continue }
            switch entry.kind {
            case "guest-launching": guests[guest].watchdog.launched(at: entry.time)
            case "guest-started": guests[guest].watchdog.started(at: entry.time)
            case "result-accepted": if let path = entry.fields["path"]?.stringValue { guests[guest].missing.remove(path) }
            case "finishing": watchdog.finishing(at: entry.time)
            case "deadline-extended":
                let seconds = entry.fields["seconds"]?.doubleValue ?? 0
                extended += seconds
                _ = watchdog.extendTotal(by: seconds)
            case "boot-id": if let id = entry.fields["boot_id"]?.stringValue { guests[guest].bootID = id }
            case "reboot": guests[guest].reboots += 1
            case "stop-requested":
                stopCause = entry.fields["cause"]?.stringValue.flatMap(Watchdog.Cause.init(rawValue:))
                stopDetail = entry.fields["detail"]?.stringValue ?? ""
                endedBy = entry.fields["plugin"]?.stringValue
                if entry.fields["guest"] != nil { stopGuest = guest }
                if let outcome = entry.fields["outcome"]?.stringValue.flatMap(Outcome.init(rawValue:)) {
                    decisive = (guest, GuestState.Failure(
                        outcome: outcome, label: entry.fields["label"]?.stringValue ?? outcome.rawValue,
                        detail: entry.fields["failure"]?.stringValue ?? ""))
                }
            case "guest-failed":
                let outcome = entry.fields["outcome"]?.stringValue.flatMap(Outcome.init(rawValue:)) ?? .guestFailed
                guests[guest].failure = GuestState.Failure(outcome: outcome, label: outcome.rawValue, detail: entry.fields["detail"]?.stringValue ?? "")
                guests[guest].missing = []
            case "guest-stopping": guests[guest].stopRequested = true
            case "guest-launch-failed": guests[guest].launchFailed = true
            case "guest-exited": guests[guest].exit = GuestExit(recorded: entry.fields)
            default: break
            }
        }
        for guest in guests.indices where !guests[guest].isGone {
            if let pid = pids[guests[guest].name] {
                guests[guest].pid = pid
            } else {
                guests[guest].exit = .unknown
                record("guest-exited", tagged(guest, GuestExit.unknown.fields.merging(["while_no_host_watched": true]) { $1 }))
            }
            if job.rebootPattern != nil { guests[guest].bootBanners = 1 }
            guests[guest].console.skipToEnd()
        }
        if stopCause != nil {
            for guest in guests.indices where !guests[guest].isGone { guests[guest].stopRequested = true }
        }
        for guest in guests.indices where guests[guest].stopRequested && !guests[guest].isGone {
            takeStep(guest, guests[guest].stop.begin(at: now))
        }
    }
}

extension GuestExit {
    /// A guest's end as a `guest-exited` record gives it.
    init(recorded fields: [String: JSONValue]) {
        if let status = fields["exit_status"]?.intValue {
            self = .exited(Int32(truncatingIfNeeded: status))
        } else if let signal = fields["signal"]?.intValue {
            self = .signalled(Int32(truncatingIfNeeded: signal))
        } else {
            self = .unknown
        }
    }
}
