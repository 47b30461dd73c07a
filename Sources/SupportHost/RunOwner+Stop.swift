import FoundationEssentials
import PluginAPI
import SupportKit

#if canImport(Glibc)
import Glibc
#endif

/// Stopping the guests and deciding the outcome: a run-wide stop reaches every guest at once,
/// each with its own stop sequence (its stop commands, SIGTERM, SIGKILL), all journaled.
extension RunOwner {
    /// The stop commands to start, once each, with the guest each is for.
    mutating func takeStopCommands() -> [(guest: Int, argv: [String])] {
        var commands: [(guest: Int, argv: [String])] = []
        for guest in guests.indices {
            if let argv = guests[guest].pendingStopCommand { commands.append((guest, argv)) }
            guests[guest].pendingStopCommand = nil
        }
        return commands
    }

    /// Stops the run: every guest not gone is stopped, in parallel. `guest` is the guest the
    /// cause belongs to (its timeout, its failure), named in the record of a run of several.
    mutating func beginStop(_ cause: Watchdog.Cause, at now: Double, guest: Int? = nil) {
        stopCause = cause
        stopGuest = guest
        var fields: [String: JSONValue] = ["cause": .string(cause.rawValue)]
        switch cause {
        case .totalTimeout:
            stopDetail = "the run took longer than \(durationText(watchdog.totalDeadline))"
        case .shutdownTimeout:
            stopDetail = several
                ? "the guests did not exit within \(durationText(job.timeouts.shutdown)) of the last required result"
                : "the guest did not exit within \(durationText(job.timeouts.shutdown)) of its last required result"
        case .startupTimeout, .activityTimeout, .interrupted, .consoleFail, .rebootLoop, .pluginFinished, .pluginFailed, .guestFailed:
            break
        }
        if let endedBy { fields["plugin"] = .string(endedBy) }
        let last = guest.flatMap { activity.last(of: guests[$0].name) } ?? activity.last
        if let last {
            fields["last_request"] = .string(last.description)
            fields["last_request_time"] = .double(rounded(last.time))
        }
        fields["detail"] = .string(stopDetail)
        if let guest, several { fields["guest"] = .string(guests[guest].name) }
        if let decisive, cause == .guestFailed {
            fields["outcome"] = .string(decisive.failure.outcome.rawValue)
            fields["label"] = .string(decisive.failure.label)
            fields["failure"] = .string(decisive.failure.detail)
        }
        record("stop-requested", fields)
        options.logger.info("stopping the \(several ? "guests" : "guest"): \(cause.rawValue.replacingEvery("-", with: " ")): \(stopDetail)")
        announce(.stopping(cause: cause.rawValue))
        for guest in guests.indices where !guests[guest].isGone && !guests[guest].stopRequested {
            requestStop(guest, at: now)
        }
    }

    /// Starts one guest's stop sequence, or marks it to start once the guest's pid is known.
    mutating func requestStop(_ guest: Int, at now: Double) {
        guests[guest].stopRequested = true
        if guests[guest].pid != nil { takeStep(guest, guests[guest].stop.begin(at: now)) }
    }

    mutating func takeStep(_ guest: Int, _ step: StopSequence.Step) {
        guard let pid = guests[guest].pid else { return }
        switch step {
        case .stopCommand(let index):
            let argv = guests[guest].guest.stopCommands[index]
            guests[guest].pendingStopCommand = argv
            record("stop-step", tagged(guest, [
                "step": .string(step.name), "index": .int(Int64(index)), "argv": .array(argv.map { .string(redact($0)) }),
            ]))
        case .terminate:
            let delivered = Reaper.signalGroup(pid, SIGTERM)
            record("stop-step", tagged(guest, ["step": .string(step.name), "process_group": .int(Int64(pid)), "delivered": .bool(delivered)]))
        case .kill:
            let delivered = Reaper.signalGroup(pid, SIGKILL)
            record("stop-step", tagged(guest, ["step": .string(step.name), "process_group": .int(Int64(pid)), "delivered": .bool(delivered)]))
        }
    }

    /// How each guest's end relates to the stop: one guest's note as it is, several named.
    private var stopNotes: String {
        guard several else { return guests.first?.stopNote ?? "" }
        return guests.filter { !$0.stopNote.isEmpty }.map { "; \($0.name): " + $0.stopNote.dropFirst(2) }.joined()
    }

    /// Required results still missing, each with its guest in a run of several.
    private var missingText: String {
        guests.flatMap { guest in guest.missing.sorted().map { several ? "\(guest.name):\($0)" : $0 } }.joined(separator: ", ")
    }

    /// Every guest is gone: the outcome, from the essential guest that failed, the stop's
    /// cause, or how the guests ended by themselves.
    mutating func decideOutcome(at now: Double) {
        let stoppedBy = stopNotes
        let allIn = guests.allSatisfy { $0.missing.isEmpty }
        if let (guest, failure) = decisive {
            let others = several ? "; the other guests were stopped" : ""
            finish(failure.outcome, "\(failure.label): \(prefix(guest))\(failure.detail)\(others)\(stoppedBy)", guest: guest)
            return
        }
        switch stopCause {
        case .startupTimeout?: finish(.startupTimeout, "startup timeout: \(stopDetail)\(stoppedBy)", guest: stopGuest)
        case .activityTimeout?: finish(.activityTimeout, "activity timeout: \(stopDetail)\(stoppedBy)", guest: stopGuest)
        case .totalTimeout?: finish(.totalTimeout, "total timeout: \(stopDetail)\(stoppedBy)")
        case .interrupted?: finish(.interrupted, "interrupted: \(stopDetail)\(stoppedBy)")
        case .consoleFail?: finish(.consoleFail, "console fail: \(stopDetail)\(stoppedBy)", guest: stopGuest)
        case .rebootLoop?: finish(.rebootLoop, "reboot loop: \(stopDetail)\(stoppedBy)", guest: stopGuest)
        case .pluginFailed?: finish(.pluginFailed, "plugin failed: \(stopDetail)\(stoppedBy)")
        case .guestFailed?: finish(.guestFailed, "guest failed: \(stopDetail)\(stoppedBy)", guest: stopGuest)
        case .pluginFinished?:
            if allIn {
                finish(.completed, "completed: \(stopDetail)\(stoppedBy)")
            } else {
                finish(.resultsMissing, "results missing: \(missingText); \(stopDetail)\(stoppedBy)")
            }
        case .shutdownTimeout?:
            if allIn {
                finish(.completed, "completed: every required result in; \(stopDetail)\(stoppedBy)")
            } else {
                finish(.shutdownTimeout, "shutdown timeout: \(stopDetail)\(stoppedBy)")
            }
        case nil:
            guard several else {
                let verdict = guests[0].judge(guests[0].exit ?? .unknown, after: now)
                return finish(verdict.outcome, "\(verdict.label): \(verdict.detail)")
            }
            let failed = guests.compactMap { guest in guest.failure.map { "\(guest.name) (\($0.label): \($0.detail))" } }
            finish(.completed, "completed: all \(guests.count) guests exited after \(durationText(now))"
                + (failed.isEmpty ? "" : "; not essential and failed: " + failed.joined(separator: ", ")))
        }
    }

    /// After the guests are gone: nothing of them may outlive the run.
    func sweep() {
        for guest in guests.indices {
            guard let pid = guests[guest].pid else { continue }
            if Reaper.signalGroup(pid, SIGKILL) {
                record("leftovers-killed", tagged(guest, ["process_group": .int(Int64(pid))]))
            }
        }
        if options.adoptOrphans {
            let ended = Reaper.endAdoptedOrphans()
            if !ended.isEmpty { record("orphans-killed", ["pids": .array(ended.map { .int(Int64($0)) })]) }
        }
    }

    func recordOutcome() async throws {
        let outcome = outcome ?? .completed
        var fields: [String: JSONValue] = [
            "outcome": .string(outcome.rawValue), "exit_code": .int(Int64(outcome.exitCode)), "line": .string(line),
            "requests": .int(activity.counters.requests), "bytes_in": .int(activity.counters.bytesIn),
            "bytes_out": .int(activity.counters.bytesOut),
            "journal_fsyncs": .int(Int64(journal.syncStatistics.syncs)),
            "journal_durable_records": .int(Int64(journal.syncStatistics.durableRecords)),
        ]
        if let outcomeGuest { fields["guest"] = .string(outcomeGuest) }
        try await journal.appendDurably(source: "host", kind: "outcome", fields: fields)
    }

    func closeConsoles() {
        for guest in guests { guest.console.close() }
    }
}
