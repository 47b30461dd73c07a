import FoundationEssentials
import PluginAPI
import SupportKit

#if canImport(Glibc)
import Glibc
#endif

/// The one owner of a run's state. Every other part of the run sends it inputs; it decides
/// when each guest has started, which deadline fired, how the guests are stopped and how the
/// run ended, and journals each decision before acting on it. A run of one guest is a run
/// whose guest list has one entry; each guest's own state is its `GuestState`.
struct RunOwner {
    let job: Job
    let journal: Journal
    let activity: Activity
    let clock: RunClock
    let options: RunOptions
    /// Takes the run tokens out of anything recorded or shown.
    let redact: @Sendable (String) -> String

    var watchdog: Watchdog
    var guests: [GuestState]
    var stopCause: Watchdog.Cause?
    var stopDetail = ""
    /// The failure of an essential guest that decides the run's outcome.
    var decisive: (guest: Int, failure: GuestState.Failure)?
    /// The guest whose timeout, console or reboots stopped the run, if one did.
    var stopGuest: Int?
    var extended = 0.0
    var lastConsoleLook = 0.0
    var announcedStart = false
    private(set) var outcome: Outcome?
    private(set) var line = ""
    /// The guest the outcome names, in a run of several.
    private(set) var outcomeGuest: String?
    private(set) var isDone = false
    /// The plug-in that ended the run, if one did.
    var endedBy: String?
    /// Tells every plug-in of a step of the run's life (`Plugin.runPhaseChanged`).
    var announce: @Sendable (RunPhase) -> Void = { _ in }
    /// Tells every plug-in of a step of one guest's life (`Plugin.guestChanged`).
    var announceGuest: @Sendable (String, GuestChange) -> Void = { _, _ in }

    /// An owner of a run with one console per guest, in the job's order.
    init(
        job: Job, journal: Journal, activity: Activity, clock: RunClock, options: RunOptions, consoles: [ConsoleWatch],
        redact: @escaping @Sendable (String) -> String
    ) {
        self.redact = redact
        self.job = job
        self.journal = journal
        self.activity = activity
        self.clock = clock
        self.options = options
        watchdog = Watchdog(timeouts: job.timeouts, now: clock.elapsed)
        guests = zip(job.guests, consoles).map { GuestState($0, timeouts: job.timeouts, console: $1) }
    }

    /// An owner of a run of one guest.
    init(
        job: Job, journal: Journal, activity: Activity, clock: RunClock, options: RunOptions, console: ConsoleWatch,
        redact: @escaping @Sendable (String) -> String
    ) {
        self.init(job: job, journal: journal, activity: activity, clock: clock, options: options, consoles: [console], redact: redact)
    }

    var several: Bool { guests.count > 1 }

    /// The guest's index by name; nil names the first guest (a plug-in of a run of one guest).
    func index(of name: String?) -> Int? {
        guard let name else { return 0 }
        return guests.firstIndex { $0.name == name }
    }

    /// `fields` with the guest's name, in a run of several guests; a run of one keeps its records as they were.
    func tagged(_ guest: Int, _ fields: [String: JSONValue]) -> [String: JSONValue] {
        guard several else { return fields }
        var fields = fields
        fields["guest"] = .string(guests[guest].name)
        return fields
    }

    /// "guest NAME: " before a detail, in a run of several guests.
    func prefix(_ guest: Int) -> String { several ? "guest \(guests[guest].name): " : "" }

    /// "guest" or "guest NAME", for log lines.
    func called(_ guest: Int) -> String { several ? "guest \(guests[guest].name)" : "guest" }

    mutating func begin(_ guest: Int, argv: [String]) {
        guests[guest].watchdog.launched(at: clock.elapsed)
        record("guest-launching", tagged(guest, ["argv": .array(argv.map { .string(redact($0)) })]))
        options.logger.debug("\(called(guest)) command: \(argv.map { redact($0.contains(" ") ? "'\($0)'" : $0) }.joined(separator: " "))")
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
        else if guests.allSatisfy({ $0.watchdog.startedAt != nil || $0.isGone }) { state = "started" }
        else { state = "launched" }
        var next = watchdog.next()
        for guest in guests where !guest.isGone && !guest.stopRequested {
            if let own = guest.watchdog.next(lastActivity: activity.lastActivity(of: guest.name)), own.at < next.at {
                next = (several ? "\(own.name) of \(guest.name)" : own.name, own.at)
            }
        }
        let counters = activity.counters
        var status = RunStatus(
            elapsed: now, state: state, requests: counters.requests, bytesIn: counters.bytesIn, bytesOut: counters.bytesOut,
            nextDeadline: next.name, untilDeadline: max(0, next.at - now))
        if let stopCause, let guest = guests.first(where: { !$0.isGone && $0.isStopping }), let step = guest.stop.step {
            status.stop = RunStatus.Stop(
                cause: stopCause.rawValue.replacingEvery("-", with: " "), step: guest.stepText(step),
                nextStep: guest.stop.followingStep.map(guest.stepText), untilNextStep: guest.stop.nextStepAt.map { max(0, $0 - now) })
        }
        return status
    }

    /// When the run next has something to check, on the run clock: the nearest deadline (or
    /// a stop's next step), and every 100 ms while a console is watched. Activity only moves
    /// an activity deadline later, so waking at the one known now is never late.
    func nextWake() -> Double {
        var wake = stopCause == nil ? watchdog.next().at : .infinity
        for guest in guests where !guest.isGone {
            if guest.isStopping {
                wake = min(wake, guest.stop.nextStepAt ?? .infinity)
            } else if stopCause == nil, !guest.stopRequested,
                let next = guest.watchdog.next(lastActivity: activity.lastActivity(of: guest.name))
            {
                wake = min(wake, next.at)
            }
        }
        if stopCause == nil && guests.contains(where: { $0.console.isActive }) { wake = min(wake, lastConsoleLook + 0.1) }
        return wake
    }

    mutating func handle(_ input: RunInput) {
        let now = clock.elapsed
        switch input {
        case .launched(let pid, let guest):
            guests[guest].pid = pid
            record("guest-launched", tagged(guest, ["pid": .int(Int64(pid)), "start_time": Guest.startTime(of: pid).map { .int($0) } ?? .null]))
            options.logger.info("launched \(called(guest)), pid \(pid)")
            if guests[guest].stopRequested { takeStep(guest, guests[guest].stop.begin(at: now)) }
        case .launchFailed(let reason, let guest):
            record("guest-launch-failed", tagged(guest, ["reason": .string(reason)]))
            guests[guest].launchFailed = true
            failed(guest, GuestState.Failure(outcome: .launchFailed, label: "launch failed", detail: reason), at: now)
            ended(guest, description: "launch failed: \(reason)", at: now)
        case .plugin(.guestPinged(let pingBootID, let name), _):
            guard let guest = index(of: name) else { return }
            pinged(guest, bootID: pingBootID, at: now)
        case .plugin(.resultStored(let path, let file, let size, let sha256, let name), let plugin):
            // The host's record of the result: the timeline, a live view and a run taken over
            // read this, never a plug-in's own records.
            var fields: [String: JSONValue] = ["path": .string(path), "plugin": .string(plugin)]
            if let file { fields["file"] = .string(file) }
            if let size { fields["size"] = .int(size) }
            if let sha256 { fields["sha256"] = .string(sha256) }
            if let name, several { fields["guest"] = .string(name) }
            record("result-accepted", fields)
            guard let guest = index(of: name), guests[guest].missing.remove(path) != nil else { return }
            checkFinishing(at: now)
        case .plugin(.activity, _):
            activity.touch()
        case .plugin(.guestActivity(let guest), _):
            activity.touch(guest: guest)
        case .plugin(.endRun(let failed, let reason), let plugin):
            guard stopCause == nil else { return }
            endedBy = plugin
            stopDetail = "plug-in \(plugin): \(reason)"
            beginStop(failed ? .pluginFailed : .pluginFinished, at: now)
        case .tick:
            tick(at: now)
        case .interrupt(let number):
            if stopCause == nil {
                stopDetail = "\(Guest.signalName(number)) to the host"
                beginStop(.interrupted, at: now)
            } else {
                for guest in guests.indices where !guests[guest].isGone {
                    guard let step = guests[guest].stop.hurry(at: now) else { continue }
                    record("stop-hurried", tagged(guest, ["signal": .string(Guest.signalName(number))]))
                    takeStep(guest, step)
                }
            }
        case .stopCommandEnded(let status, let guest):
            if case .stopCommand(let index)? = guests[guest].stop.step { guests[guest].stopCommandEnded[index] = status }
            record("stop-command-ended", tagged(guest, ["status": .string(status)]))
            options.logger.debug("stop command of \(called(guest)) ended: \(status)")
        case .ask(.extendDeadline(let seconds), let answer):
            answer.resume(with: extendDeadline(by: seconds, at: now))
        case .exited(let exit, let guest):
            exited(guest, exit, at: now)
        }
    }

    private mutating func pinged(_ guest: Int, bootID pingBootID: String?, at now: Double) {
        if let pingBootID, pingBootID != guests[guest].bootID {
            // The host's own record of it, so that a host taking the run over knows it.
            record("boot-id", tagged(guest, ["boot_id": .string(pingBootID)]))
            if guests[guest].bootID != nil { rebooted(guest, via: "X-Boot-Id", detail: "boot id changed", at: now) }
            guests[guest].bootID = pingBootID
        }
        guard guests[guest].watchdog.startedAt == nil else { return }
        guard stopCause == nil, !guests[guest].stopRequested else {
            // The guest is already being stopped: this ping started nothing, and saying
            // otherwise would contradict the stop just announced.
            guard !guests[guest].latePingNoted else { return }
            guests[guest].latePingNoted = true
            let after = now - (guests[guest].watchdog.launchedAt ?? 0)
            record("late-ping", tagged(guest, ["after": .double(rounded(after))]))
            options.logger.info("a ping came \(durationText(after)) after launch, during the stop: too late to count as a start")
            return
        }
        guests[guest].watchdog.started(at: now)
        let after = now - (guests[guest].watchdog.launchedAt ?? 0)
        record("guest-started", tagged(guest, ["after": .double(rounded(after))]))
        options.logger.info("\(called(guest)) started (first ping after \(durationText(after)))")
        if !announcedStart, guests.allSatisfy({ $0.watchdog.startedAt != nil || $0.failure != nil || $0.isGone }) {
            announcedStart = true
            announce(.guestStarted)
        }
        announceGuest(guests[guest].name, .started)
    }

    /// Once every required result of every guest is in, the guests have the shutdown timeout to exit.
    mutating func checkFinishing(at now: Double) {
        guard watchdog.finishingAt == nil, guests.allSatisfy({ $0.missing.isEmpty }) else { return }
        watchdog.finishing(at: now)
        record("finishing", ["shutdown_timeout": .double(job.timeouts.shutdown)])
        options.logger.info("all required results in; the \(several ? "guests have" : "guest has") \(durationText(job.timeouts.shutdown)) to exit")
        announce(.finishing)
    }

    private mutating func tick(at now: Double) {
        lastConsoleLook = now
        for guest in guests.indices {
            for finding in guests[guest].console.look() where stopCause == nil {
                switch finding {
                case .failure(let pattern, let line):
                    stopDetail = prefix(guest) + "pattern \"\(pattern)\" matched \"\(redact(String(line.prefix(300))))\""
                    beginStop(.consoleFail, at: now, guest: guest)
                case .bootBanner(let line):
                    guests[guest].bootBanners += 1
                    if guests[guest].bootBanners > 1 { rebooted(guest, via: "console", detail: redact(String(line.prefix(300))), at: now) }
                }
            }
        }
        if stopCause == nil, let cause = watchdog.expired(now: now) { beginStop(cause, at: now) }
        for guest in guests.indices where stopCause == nil && !guests[guest].isGone && !guests[guest].stopRequested {
            let name = guests[guest].name
            if let cause = guests[guest].watchdog.expired(now: now, lastActivity: activity.lastActivity(of: name)) {
                timedOut(guest, cause, at: now)
            }
        }
        for guest in guests.indices where !guests[guest].isGone {
            if let step = guests[guest].stop.advance(at: now) { takeStep(guest, step) }
        }
    }

    /// A guest missed its startup or activity deadline: an essential one stops the run, another
    /// is stopped alone and recorded.
    private mutating func timedOut(_ guest: Int, _ cause: Watchdog.Cause, at now: Double) {
        let own = guests[guest].guest
        var detail: String
        if cause == .startupTimeout {
            detail = "no ping within \(durationText(own.startupTimeout))"
        } else {
            detail = "no request for \(durationText(own.activityTimeout))"
            if let last = activity.last(of: own.name) { detail += " (last: \(last.description) at \(wallClock(ofRunTime: last.time)))" }
        }
        if own.essential {
            stopDetail = prefix(guest) + detail
            beginStop(cause, at: now, guest: guest)
            return
        }
        let label = cause == .startupTimeout ? "startup timeout" : "activity timeout"
        failed(guest, GuestState.Failure(outcome: cause == .startupTimeout ? .startupTimeout : .activityTimeout, label: label, detail: detail), at: now)
    }

    /// A guest failed by itself (its exit, results missing, no launch, a timeout of its own):
    /// an essential guest's failure decides the run and stops the others at once; a failure
    /// of a guest that is not essential is recorded, the guest stopped, and the run goes on.
    mutating func failed(_ guest: Int, _ failure: GuestState.Failure, at now: Double) {
        if guests[guest].guest.essential {
            guard decisive == nil else { return }
            decisive = (guest, failure)
            if several, stopCause == nil, guests.contains(where: { !$0.isGone }) {
                stopDetail = prefix(guest) + "\(failure.label): \(failure.detail)"
                beginStop(.guestFailed, at: now, guest: guest)
            }
            return
        }
        guests[guest].failure = failure
        let dropped = guests[guest].missing.sorted()
        guests[guest].missing = []
        record("guest-failed", tagged(guest, [
            "outcome": .string(failure.outcome.rawValue), "detail": .string("\(failure.label): \(failure.detail)"),
            "essential": false, "results_no_longer_required": .array(dropped.map { .string($0) }),
        ]))
        options.logger.info("\(called(guest)) failed (\(failure.label): \(failure.detail)); it is not essential, the run goes on")
        if !guests[guest].isGone && !guests[guest].stopRequested {
            record("guest-stopping", tagged(guest, ["cause": .string(failure.outcome.rawValue)]))
            requestStop(guest, at: now)
        }
        checkFinishing(at: now)
    }

    private mutating func exited(_ guest: Int, _ exit: GuestExit, at now: Double) {
        guests[guest].exit = exit
        var fields = exit.fields
        if let step = guests[guest].stop.step {
            fields["during_stop_step"] = .string(step.name)
            fields["stopping_for"] = .double(rounded(now - guests[guest].stop.began))
        }
        record("guest-exited", tagged(guest, fields))
        guests[guest].stopNote = guests[guest].stopText(exit, at: now)
        if stopCause == nil, !guests[guest].stopRequested {
            let verdict = guests[guest].judge(exit, after: now)
            if verdict.outcome != .completed {
                failed(guest, GuestState.Failure(outcome: verdict.outcome, label: verdict.label, detail: verdict.detail), at: now)
            }
        }
        ended(guest, description: exit.description, at: now)
    }

    /// A guest is gone: plug-ins are told, and once every guest is gone the run's outcome is decided.
    private mutating func ended(_ guest: Int, description: String, at now: Double) {
        let allGone = guests.allSatisfy(\.isGone)
        if allGone { announce(.guestExited) }
        announceGuest(guests[guest].name, .exited(description: description))
        if allGone { decideOutcome(at: now) }
    }

    /// The guest started over (VCD's reboot event); past `--max-reboots` that ends the run.
    private mutating func rebooted(_ guest: Int, via: String, detail: String, at now: Double) {
        guests[guest].reboots += 1
        let reboots = guests[guest].reboots
        record("reboot", tagged(guest, ["via": .string(via), "detail": .string(detail), "count": .int(Int64(reboots))]))
        options.logger.info("the \(called(guest)) rebooted (\(via): \(detail)); \(reboots) of \(job.maxReboots) allowed")
        guard reboots > job.maxReboots, stopCause == nil else { return }
        stopDetail = prefix(guest) + "\(reboots) reboot\(reboots == 1 ? "" : "s"), \(job.maxReboots) allowed (last seen by \(via))"
        beginStop(.rebootLoop, at: now, guest: guest)
    }

    mutating func finish(_ outcome: Outcome, _ line: String, guest: Int? = nil) {
        self.outcome = outcome
        self.line = line
        outcomeGuest = guest.flatMap { several ? guests[$0].name : nil }
        isDone = true
    }

    func record(_ kind: String, _ fields: [String: JSONValue]) {
        journal.append(source: "host", kind: kind, fields: fields)
    }

    func wallClock(ofRunTime time: Double) -> String {
        var seconds = Int(Date().addingTimeInterval(time - clock.elapsed).timeIntervalSince1970.rounded(.down))
        var parts = tm()
        localtime_r(&seconds, &parts)
        return String(printf: "%02ld:%02ld:%02ld", Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }
}

func rounded(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }

func durationText(_ value: Double) -> String {
    value >= 10 || value == value.rounded() ? "\(Int(value.rounded())) s" : String(printf: "%.1f s", value)
}
