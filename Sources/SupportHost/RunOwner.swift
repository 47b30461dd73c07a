import Foundation
import PluginAPI

#if canImport(Glibc)
import Glibc
#endif

/// The one owner of a run's state. Every other part of the run sends it inputs; it decides
/// when the guest has started, which deadline fired, how the guest is stopped and how the run
/// ended, and journals each decision before acting on it.
struct RunOwner {
    let job: Job
    let journal: Journal
    let activity: Activity
    let clock: RunClock
    let options: RunOptions
    private(set) var console: ConsoleWatch
    /// Takes the run token out of anything recorded or shown.
    let redact: @Sendable (String) -> String

    private var watchdog: Watchdog
    private var stop: StopSequence
    private var pid: pid_t?
    private var missing: Set<String>
    private var stopCause: Watchdog.Cause?
    private var stopDetail = ""
    private var pendingStopCommand: [String]?
    /// How each stop command ended (`exited(0)`, …), by index: whether it reached the guest.
    private var stopCommandEnded: [Int: String] = [:]
    private var latePingNoted = false
    private var exit: GuestExit?
    private var extended = 0.0
    private var bootID: String?
    private var bootBanners = 0
    private var reboots = 0
    private var lastConsoleLook = 0.0
    private(set) var outcome: Outcome?
    private(set) var line = ""
    private(set) var isDone = false
    /// The plug-in that ended the run, if one did.
    private var endedBy: String?
    /// Tells every plug-in of a step of the run's life (`Plugin.runPhaseChanged`).
    var announce: @Sendable (RunPhase) -> Void = { _ in }
    /// Tells every plug-in of a step of one guest's life (`Plugin.guestChanged`).
    var announceGuest: @Sendable (String, GuestChange) -> Void = { _, _ in }

    init(
        job: Job, journal: Journal, activity: Activity, clock: RunClock, options: RunOptions, console: ConsoleWatch,
        redact: @escaping @Sendable (String) -> String
    ) {
        self.console = console
        self.redact = redact
        self.job = job
        self.journal = journal
        self.activity = activity
        self.clock = clock
        self.options = options
        watchdog = Watchdog(timeouts: job.timeouts, now: clock.elapsed)
        stop = StopSequence(timeouts: job.timeouts, stopCommands: job.stopCommands.count)
        missing = Set(job.configuration.results.filter(\.required).map(\.path))
    }

    mutating func begin(argv: [String]) {
        watchdog.launched(at: clock.elapsed)
        record("guest-launching", ["argv": .array(argv.map { .string(redact($0)) })])
        options.logger.debug("guest command: \(argv.map { redact($0.contains(" ") ? "'\($0)'" : $0) }.joined(separator: " "))")
    }

    /// Continues a run from its journal after a host crash: what the earlier host decided
    /// stands, and a stop that was under way starts over.
    mutating func restore(from entries: [JournalEntry], pid: pid_t) {
        self.pid = pid
        let now = clock.elapsed
        for entry in entries {
            switch entry.kind {
            case "guest-launching": watchdog.launched(at: entry.time)
            case "guest-started": watchdog.started(at: entry.time)
            case "result-accepted": if let path = entry.fields["path"]?.stringValue { missing.remove(path) }
            case "finishing": watchdog.finishing(at: entry.time)
            case "deadline-extended":
                let seconds = entry.fields["seconds"]?.doubleValue ?? 0
                extended += seconds
                _ = watchdog.extendTotal(by: seconds)
            case "boot-id": if let id = entry.fields["boot_id"]?.stringValue { bootID = id }
            case "reboot": reboots += 1
            case "stop-requested":
                stopCause = entry.fields["cause"]?.stringValue.flatMap(Watchdog.Cause.init(rawValue:))
                stopDetail = entry.fields["detail"]?.stringValue ?? ""
                endedBy = entry.fields["plugin"]?.stringValue
            default: break
            }
        }
        if job.rebootPattern != nil { bootBanners = 1 }
        console.skipToEnd()
        if stopCause != nil { takeStep(stop.begin(at: now)) }
    }

    /// A guest asks for more time: granted within the operator's cap, in total over the run.
    private mutating func extendDeadline(by seconds: Double, at now: Double) -> Result<JSONValue, any Error> {
        let cap = job.maxExtend
        guard stopCause == nil else { return .failure(GuestError(409, "the run is already stopping")) }
        guard cap > 0 else {
            record("extension-refused", ["seconds": .double(seconds), "reason": "not allowed"])
            return .failure(GuestError(403, "the watchdog may not be extended: the operator's --max-extend is 0"))
        }
        guard extended + seconds <= cap else {
            record("extension-refused", ["seconds": .double(seconds), "reason": "over the cap"])
            return .failure(GuestError(403, "extending by \(durationText(seconds)) would exceed --max-extend \(durationText(cap)) (\(durationText(extended)) granted so far)"))
        }
        extended += seconds
        let deadline = watchdog.extendTotal(by: seconds)
        record("deadline-extended", ["seconds": .double(seconds), "total_deadline": .double(rounded(deadline)), "granted": .double(extended)])
        options.logger.info("guest extended its total deadline by \(durationText(seconds))")
        return .success([
            "total_deadline": .double(rounded(deadline)), "remaining": .double(rounded(deadline - now)),
            "granted": .double(extended), "cap": .double(cap),
        ])
    }

    /// The state for a status line.
    func status() -> RunStatus {
        let now = clock.elapsed
        let state: String
        if stopCause != nil { state = "stopping" }
        else if watchdog.finishingAt != nil { state = "finishing" }
        else if watchdog.startedAt != nil { state = "started" }
        else { state = "launched" }
        let next = watchdog.next(lastActivity: activity.lastActivity)
        let counters = activity.counters
        var status = RunStatus(
            elapsed: now, state: state, requests: counters.requests, bytesIn: counters.bytesIn, bytesOut: counters.bytesOut,
            nextDeadline: next.name, untilDeadline: max(0, next.at - now))
        if let stopCause, let step = stop.step {
            status.stop = RunStatus.Stop(
                cause: stopCause.rawValue.replacingOccurrences(of: "-", with: " "), step: stepText(step),
                nextStep: stop.followingStep.map(stepText), untilNextStep: stop.nextStepAt.map { max(0, $0 - now) })
        }
        return status
    }

    private func stepText(_ step: StopSequence.Step) -> String {
        guard case .stopCommand(let index) = step else { return step.name }
        return job.stopCommands.count > 1 ? "stop command \(index + 1) of \(job.stopCommands.count)" : "stop command"
    }

    /// When the run next has something to check, on the run clock: the nearest deadline (or
    /// the stop's next step), and every 100 ms while the console is watched. Activity only
    /// moves the activity deadline later, so waking at the one known now is never late.
    func nextWake() -> Double {
        var wake = stopCause != nil ? (stop.nextStepAt ?? .infinity) : watchdog.next(lastActivity: activity.lastActivity).at
        if console.isActive && stopCause == nil { wake = min(wake, lastConsoleLook + 0.1) }
        return wake
    }

    mutating func handle(_ input: RunInput) {
        let now = clock.elapsed
        switch input {
        case .launched(let pid):
            self.pid = pid
            record("guest-launched", ["pid": .int(Int64(pid)), "start_time": Guest.startTime(of: pid).map { .int($0) } ?? .null])
            options.logger.info("launched guest, pid \(pid)")
            if stopCause != nil { takeStep(stop.begin(at: now)) }
        case .launchFailed(let reason):
            record("guest-launch-failed", ["reason": .string(reason)])
            finish(.launchFailed, "launch failed: \(reason)")
        case .plugin(.guestPinged(let pingBootID), _):
            if let pingBootID, pingBootID != bootID {
                // The host's own record of it, so that a host taking the run over knows it.
                record("boot-id", ["boot_id": .string(pingBootID)])
                if bootID != nil { rebooted(via: "X-Boot-Id", detail: "boot id changed", at: now) }
                bootID = pingBootID
            }
            guard watchdog.startedAt == nil else { return }
            guard stopCause == nil else {
                // The run is already stopping: this ping started nothing, and saying otherwise
                // would contradict the stop just announced.
                guard !latePingNoted else { return }
                latePingNoted = true
                let after = now - (watchdog.launchedAt ?? 0)
                record("late-ping", ["after": .double(rounded(after))])
                options.logger.info("a ping came \(durationText(after)) after launch, during the stop: too late to count as a start")
                return
            }
            watchdog.started(at: now)
            record("guest-started", ["after": .double(rounded(now - (watchdog.launchedAt ?? 0)))])
            options.logger.info("guest started (first ping after \(durationText(now - (watchdog.launchedAt ?? 0))))")
            announce(.guestStarted)
            announceGuest(GuestDescription.defaultName, .started)
        case .plugin(.resultStored(let path, let file, let size, let sha256), let plugin):
            // The host's record of the result: the timeline, a live view and a run taken over
            // read this, never a plug-in's own records.
            var fields: [String: JSONValue] = ["path": .string(path), "plugin": .string(plugin)]
            if let file { fields["file"] = .string(file) }
            if let size { fields["size"] = .int(size) }
            if let sha256 { fields["sha256"] = .string(sha256) }
            record("result-accepted", fields)
            guard missing.remove(path) != nil, missing.isEmpty else { return }
            watchdog.finishing(at: now)
            record("finishing", ["shutdown_timeout": .double(job.timeouts.shutdown)])
            options.logger.info("all required results in; the guest has \(durationText(job.timeouts.shutdown)) to exit")
            announce(.finishing)
        case .plugin(.activity, _), .plugin(.guestActivity, _):
            activity.touch()
        case .plugin(.endRun(let failed, let reason), let plugin):
            guard stopCause == nil else { return }
            endedBy = plugin
            stopDetail = "plug-in \(plugin): \(reason)"
            beginStop(failed ? .pluginFailed : .pluginFinished, at: now)
        case .tick:
            lastConsoleLook = now
            for finding in console.look() where stopCause == nil {
                switch finding {
                case .failure(let pattern, let line):
                    stopDetail = "pattern \"\(pattern)\" matched \"\(redact(String(line.prefix(300))))\""
                    beginStop(.consoleFail, at: now)
                case .bootBanner(let line):
                    bootBanners += 1
                    if bootBanners > 1 { rebooted(via: "console", detail: redact(String(line.prefix(300))), at: now) }
                }
            }
            if stopCause != nil {
                if let step = stop.advance(at: now) { takeStep(step) }
            } else if let cause = watchdog.expired(now: now, lastActivity: activity.lastActivity) {
                beginStop(cause, at: now)
            }
        case .interrupt(let number):
            if stopCause == nil {
                stopDetail = "\(Guest.signalName(number)) to the host"
                beginStop(.interrupted, at: now)
            } else if let step = stop.hurry(at: now) {
                record("stop-hurried", ["signal": .string(Guest.signalName(number))])
                takeStep(step)
            }
        case .stopCommandEnded(let status):
            if case .stopCommand(let index)? = stop.step { stopCommandEnded[index] = status }
            record("stop-command-ended", ["status": .string(status)])
            options.logger.debug("stop command ended: \(status)")
        case .ask(.extendDeadline(let seconds), let answer):
            answer.resume(with: extendDeadline(by: seconds, at: now))
        case .exited(let exit):
            self.exit = exit
            var fields = exit.fields
            if let step = stop.step {
                fields["during_stop_step"] = .string(step.name)
                fields["stopping_for"] = .double(rounded(now - stop.began))
            }
            record("guest-exited", fields)
            announce(.guestExited)
            announceGuest(GuestDescription.defaultName, .exited(description: exit.description))
            decideOutcome(exit, at: now)
        }
    }

    /// The guest started over (VCD's reboot event); past `--max-reboots` that ends the run.
    private mutating func rebooted(via: String, detail: String, at now: Double) {
        reboots += 1
        record("reboot", ["via": .string(via), "detail": .string(detail), "count": .int(Int64(reboots))])
        options.logger.info("the guest rebooted (\(via): \(detail)); \(reboots) of \(job.maxReboots) allowed")
        guard reboots > job.maxReboots, stopCause == nil else { return }
        stopDetail = "\(reboots) reboot\(reboots == 1 ? "" : "s"), \(job.maxReboots) allowed (last seen by \(via))"
        beginStop(.rebootLoop, at: now)
    }

    /// The stop command to start, once.
    mutating func takeStopCommand() -> [String]? {
        defer { pendingStopCommand = nil }
        return pendingStopCommand
    }

    private mutating func beginStop(_ cause: Watchdog.Cause, at now: Double) {
        stopCause = cause
        var fields: [String: JSONValue] = ["cause": .string(cause.rawValue)]
        switch cause {
        case .startupTimeout:
            stopDetail = "no ping within \(durationText(job.timeouts.startup))"
        case .activityTimeout:
            stopDetail = "no request for \(durationText(job.timeouts.activity))"
        case .totalTimeout:
            stopDetail = "the run took longer than \(durationText(watchdog.totalDeadline))"
        case .shutdownTimeout:
            stopDetail = "the guest did not exit within \(durationText(job.timeouts.shutdown)) of its last required result"
        case .interrupted, .consoleFail, .rebootLoop, .pluginFinished, .pluginFailed:
            break
        }
        if let endedBy { fields["plugin"] = .string(endedBy) }
        if let last = activity.last {
            fields["last_request"] = .string(last.description)
            fields["last_request_time"] = .double(rounded(last.time))
            if cause == .activityTimeout { stopDetail += " (last: \(last.description) at \(wallClock(ofRunTime: last.time)))" }
        }
        fields["detail"] = .string(stopDetail)
        record("stop-requested", fields)
        options.logger.info("stopping the guest: \(cause.rawValue.replacingOccurrences(of: "-", with: " ")): \(stopDetail)")
        announce(.stopping(cause: cause.rawValue))
        if pid != nil { takeStep(stop.begin(at: now)) }
    }

    private mutating func takeStep(_ step: StopSequence.Step) {
        guard let pid else { return }
        switch step {
        case .stopCommand(let index):
            pendingStopCommand = job.stopCommands[index]
            record("stop-step", [
                "step": .string(step.name), "index": .int(Int64(index)),
                "argv": .array(job.stopCommands[index].map { .string(redact($0)) }),
            ])
        case .terminate:
            let delivered = Reaper.signalGroup(pid, SIGTERM)
            record("stop-step", ["step": .string(step.name), "process_group": .int(Int64(pid)), "delivered": .bool(delivered)])
        case .kill:
            let delivered = Reaper.signalGroup(pid, SIGKILL)
            record("stop-step", ["step": .string(step.name), "process_group": .int(Int64(pid)), "delivered": .bool(delivered)])
        }
    }

    /// How the guest's end relates to the stop under way, claiming no more than is known: a
    /// guest that exits while a stop command runs (or after it failed) may have ended by itself.
    private func stopText(_ exit: GuestExit, at now: Double) -> String {
        guard let step = stop.step else { return "" }
        let into = durationText(now - stop.began)
        switch step {
        case .stopCommand(let index):
            let number = job.stopCommands.count > 1 ? " \(index + 1)" : ""
            switch stopCommandEnded[index] {
            case "exited(0)"?: return "; the guest exited \(into) into the stop, after stop command\(number) was sent"
            case let status?: return "; the guest exited by itself \(into) into the stop (stop command\(number) ended \(status))"
            case nil: return "; the guest exited by itself \(into) into the stop, before stop command\(number) finished"
            }
        case .terminate, .kill:
            let signal = step == .kill ? SIGKILL : SIGTERM
            if exit == .signalled(signal) { return "; stopped by \(step.name) after \(into)" }
            return "; the guest exited (\(exit.description)) \(into) into the stop, after \(step.name)"
        }
    }

    private mutating func decideOutcome(_ exit: GuestExit, at now: Double) {
        let stoppedBy = stopText(exit, at: now)
        switch stopCause {
        case .startupTimeout?: finish(.startupTimeout, "startup timeout: \(stopDetail)\(stoppedBy)")
        case .activityTimeout?: finish(.activityTimeout, "activity timeout: \(stopDetail)\(stoppedBy)")
        case .totalTimeout?: finish(.totalTimeout, "total timeout: \(stopDetail)\(stoppedBy)")
        case .interrupted?: finish(.interrupted, "interrupted: \(stopDetail)\(stoppedBy)")
        case .consoleFail?: finish(.consoleFail, "console fail: \(stopDetail)\(stoppedBy)")
        case .rebootLoop?: finish(.rebootLoop, "reboot loop: \(stopDetail)\(stoppedBy)")
        case .pluginFailed?: finish(.pluginFailed, "plugin failed: \(stopDetail)\(stoppedBy)")
        case .pluginFinished?:
            if missing.isEmpty {
                finish(.completed, "completed: \(stopDetail)\(stoppedBy)")
            } else {
                finish(.resultsMissing, "results missing: \(missing.sorted().joined(separator: ", ")); \(stopDetail)\(stoppedBy)")
            }
        case .shutdownTimeout?:
            if missing.isEmpty {
                finish(.completed, "completed: every required result in; \(stopDetail)\(stoppedBy)")
            } else {
                finish(.shutdownTimeout, "shutdown timeout: \(stopDetail)\(stoppedBy)")
            }
        case nil:
            switch exit {
            case .exited(0) where missing.isEmpty:
                finish(.completed, "completed: guest exited 0 after \(durationText(now))")
            case .exited(0):
                finish(.resultsMissing, "results missing: \(missing.sorted().joined(separator: ", ")) (guest exited 0)")
            case .exited(let code):
                finish(.guestFailed, "guest failed: exit status \(code)")
            case .signalled:
                finish(.guestCrashed, "guest crashed: \(exit.description)")
            case .unknown where missing.isEmpty:
                finish(.completed, "completed: every required result in; the guest's \(exit.description)")
            case .unknown:
                finish(.resultsMissing, "results missing: \(missing.sorted().joined(separator: ", ")); the guest's \(exit.description)")
            }
        }
    }

    private mutating func finish(_ outcome: Outcome, _ line: String) {
        self.outcome = outcome
        self.line = line
        isDone = true
    }

    /// After the guest is gone: nothing of it may outlive the run.
    func sweep() {
        guard let pid else { return }
        if Reaper.signalGroup(pid, SIGKILL) {
            record("leftovers-killed", ["process_group": .int(Int64(pid))])
        }
        if options.adoptOrphans {
            let ended = Reaper.endAdoptedOrphans()
            if !ended.isEmpty { record("orphans-killed", ["pids": .array(ended.map { .int(Int64($0)) })]) }
        }
    }

    func recordOutcome() async throws {
        let outcome = outcome ?? .completed
        try await journal.appendDurably(source: "host", kind: "outcome", fields: [
            "outcome": .string(outcome.rawValue), "exit_code": .int(Int64(outcome.exitCode)), "line": .string(line),
            "requests": .int(activity.counters.requests), "bytes_in": .int(activity.counters.bytesIn),
            "bytes_out": .int(activity.counters.bytesOut),
            "journal_fsyncs": .int(Int64(journal.syncStatistics.syncs)),
            "journal_durable_records": .int(Int64(journal.syncStatistics.durableRecords)),
        ])
    }

    private func record(_ kind: String, _ fields: [String: JSONValue]) {
        journal.append(source: "host", kind: kind, fields: fields)
    }

    private func wallClock(ofRunTime time: Double) -> String {
        let date = Date().addingTimeInterval(time - clock.elapsed)
        let formatter = DateFormatter()
        formatter.dateFormat = "HH:mm:ss"
        return formatter.string(from: date)
    }
}

func rounded(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }

func durationText(_ value: Double) -> String {
    value >= 10 || value == value.rounded() ? "\(Int(value.rounded())) s" : String(format: "%.1f s", value)
}
