import Dispatch
import FoundationEssentials
import Logging
import NIOCore
import PluginAPI
import SupportKit
import Subprocess
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// How the caller wants a run carried out (not part of the job: it does not change the result).
public struct RunOptions: Sendable {
    /// Ctrl-C / SIGTERM to the host stop the guest and end the run as `interrupted`.
    public var handleSignals = false
    /// Become a child subreaper so that daemonised descendants of the guest can be ended too.
    /// Affects the whole process: for a host process of its own, such as the CLI.
    public var adoptOrphans = false
    /// State changes at `info`, details (the command line, each stop step) at `debug`.
    public var logger = Logger(label: "support-host")
    /// Called about four times a second with the run's state, for a status line.
    public var status: (@Sendable (RunStatus) -> Void)?
    /// Concurrent durable records share one fsync. Off only to measure what that gains.
    public var groupCommit = true
    /// Called once the host listens and before the guest is launched, with the address the
    /// guest must reach: writes what the guest needs to know before it starts (an injector).
    /// An error ends the run as `launch-failed` with its description.
    public var prepareLaunch: (@Sendable (GuestAddress) async throws -> Void)?
    /// With `handleSignals`: told of each SIGINT/SIGTERM the run receives (a matrix cell sets
    /// its attempt aside when it was stopped, whatever the guest did as it was stopped).
    public var signalled: (@Sendable (Int32) -> Void)?
    /// Called for each guest, by name, once the host listens and before that guest is launched,
    /// with that guest's own address (its token): e.g. `GuestKinds.prepareLaunch`. An error
    /// fails that guest's launch.
    public var prepareGuestLaunch: (@Sendable (String, GuestAddress) async throws -> Void)?

    public init() {}
}

/// Where the guest finds the host, known only once the host listens.
public struct GuestAddress: Sendable {
    /// The URL the guest is given (`{url}`): `http://HOST:PORT` and the token prefix.
    public let url: String
    public let host: String
    public let port: Int
    /// `/t/TOKEN`, or empty with `--token none`.
    public let tokenPath: String
}

/// What a finished run hands back; everything in it is also in the run directory.
public struct RunSummary: Sendable {
    public let outcome: Outcome
    public let runDirectory: RunDirectory
    /// The outcome in words, e.g. `startup timeout: no ping within 5 s; stopped by SIGTERM after 0.1 s`.
    public let line: String
    public let report: JSONValue
}

/// Inputs to the run's single owner: from the guest task, the plug-ins, the ticker, signals.
/// `guest` is an index into the job's guests (0 in a run of one guest).
enum RunInput: Sendable {
    case launched(pid_t, guest: Int = 0)
    case launchFailed(String, guest: Int = 0)
    case exited(GuestExit, guest: Int = 0)
    /// What a plug-in told the run, and which plug-in it was.
    case plugin(RunEvent, from: String)
    case stopCommandEnded(String, guest: Int = 0)
    case tick
    case interrupt(Int32)
    case ask(HostRequest, CheckedContinuation<JSONValue, any Error>)
}

/// One run: job in, run directory out. The server, the guest and the ticker are one task group;
/// the run's state has one owner (this loop), which every other part sends inputs to.
public enum SupportHostRun {
    public static func execute(_ job: Job, options: RunOptions = RunOptions()) async throws -> RunSummary {
        let existed = job.runDirectory.map { FileManager.default.fileExists(atPath: $0) } ?? false
        let directory = try RunDirectory.create(job.runDirectory)
        options.logger.info("run directory: \(directory.url.path)")
        let clock = RunClock()
        let journal = try Journal(url: directory.journal, clock: clock, groupCommit: options.groupCommit)
        let tokens: GuestTokens? = switch job.token {
        case .auto: GuestTokens(job.guests.map { GuestTokens.Entry(guest: $0.name, token: RunToken.generate()) })
        case .none: nil
        case .fixed(let value): GuestTokens(single: RunToken(value: value), guest: job.guests[0].name)
        }
        var prepared = job.fields
        prepared["run_dir"] = .string(directory.url.path)
        prepared["monotonic_origin"] = .int(Int64(clock.origin))
        prepared["boot_id"] = .string(RunClock.bootID)
        prepared["job"] = job.jobFile
        if let tokens {
            // Only digests: a host taking the run over checks each guest's token without the secret.
            prepared["token_sha256"] = .string(tokens.entries[0].token.digestHex)
            if job.guests.count > 1 {
                prepared["guest_tokens_sha256"] = .object(Dictionary(tokens.entries.map { ($0.guest, JSONValue.string($0.token.digestHex)) }) { a, _ in a })
            }
        }
        try await journal.appendDurably(source: "host", kind: "run-prepared", fields: prepared)
        let setup = Setup(
            job: job, directory: directory, clock: clock, journal: journal, tokens: tokens, history: [], guests: .launch,
            createdDirectory: !existed)
        return try await serve(setup, options: options)
    }

    /// Takes over a run whose host died while its guest lives on: the same address and port,
    /// the same deadlines, the plug-ins' state replayed from the journal, the guest watched by pid.
    public static func resume(_ directory: RunDirectory, options: RunOptions = RunOptions()) async throws -> RunSummary {
        let point = try await ResumePoint.read(directory)
        let journal = try Journal(url: directory.journal, clock: point.clock, existingRecords: UInt64(point.entries.count))
        var resumed: [String: JSONValue] = [
            "guest_pid": .int(Int64(point.pid)), "records": .int(Int64(point.entries.count)),
            "dropped_bytes": .int(Int64(point.droppedBytes)),
        ]
        if point.job.guests.count > 1 { resumed["guest_pids"] = .object(point.pids.mapValues { .int(Int64($0)) }) }
        journal.append(source: "host", kind: "host-resumed", fields: resumed)
        let pidText = point.job.guests.count > 1
            ? "guest pids " + point.pids.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            : "guest pid \(point.pid)"
        options.logger.info("taking over the run in \(directory.url.path): \(pidText), \(point.entries.count) journal records")
        let setup = Setup(
            job: point.job, directory: directory, clock: point.clock, journal: journal, tokens: point.tokens,
            history: point.entries, guests: .adopt(point.pids), createdDirectory: false)
        return try await serve(setup, options: options)
    }

    /// What a run starts from: a new job, or a journal to continue.
    struct Setup {
        /// Launch every guest, or take over those alive (by name) after a host crash.
        enum GuestSource { case launch, adopt([String: pid_t]) }
        let job: Job
        let directory: RunDirectory
        let clock: RunClock
        let journal: Journal
        let tokens: GuestTokens?
        /// The journal so far (empty for a new run); replayed into the plug-ins and the owner.
        let history: [JournalEntry]
        let guests: GuestSource
        /// This run made its directory (rather than being given an empty one).
        let createdDirectory: Bool
    }

    private static func serve(_ setup: Setup, options: RunOptions) async throws -> RunSummary {
        let (job, directory, clock, journal, tokens) = (setup.job, setup.directory, setup.clock, setup.journal, setup.tokens)
        let names = job.guests.map(\.name)
        let several = names.count > 1
        let (inputs, input) = AsyncStream<RunInput>.makeStream()
        let plugins: [any Plugin]
        let router: Router
        do {
            plugins = try PluginTable.rows.map { row in
                try PluginTable.make(row, context: PluginContext(
                    source: row.name, runDirectory: directory.url, configuration: job.configuration,
                    journal: journal, events: { input.yield(.plugin($0, from: row.name)) },
                    asks: { request in
                        try await withCheckedThrowingContinuation { input.yield(.ask(request, $0)) }
                    }, clock: clock, hostLogger: options.logger))
            }
            router = try Router(plugins: plugins)
            for entry in setup.history where entry.source != "host" {
                try plugins.first { type(of: $0).name == entry.source }?.recover(entry)
            }
        } catch {
            journal.append(source: "host", kind: "job-refused", fields: ["reason": .string("\(error)")])
            try? await journal.close()
            // A bad job creates nothing: a directory holding only the refusal is no run.
            if setup.history.isEmpty { directory.discard(createdByUs: setup.createdDirectory) }
            throw error
        }
        let activity = Activity(clock: clock, guests: names)
        let services = ServerServices(
            router: router, journal: journal, activity: activity, clock: clock, tokens: tokens, guests: names, limits: job.limits)
        services.answered.load(setup.history)
        let server: HTTPServer
        do {
            server = try await HTTPServer.start(host: job.listenHost, port: job.listenPort, services: services)
        } catch {
            // Nothing was launched: the run ends here with its own outcome, written down, so
            // that `report` and `recover` say what happened rather than "host crashed".
            let address = job.listenHost.contains(":") ? "[\(job.listenHost)]:\(job.listenPort)" : "\(job.listenHost):\(job.listenPort)"
            let reason = ListenFailure.reason(error)
            let line = "listen failed: cannot listen on \(address): \(reason); the guest was not launched"
            journal.append(source: "host", kind: "listen-failed", fields: ["address": .string(address), "reason": .string(reason)])
            guard setup.history.isEmpty else {
                // A run being taken over still has its guest: it is not over, only not resumed.
                try? await journal.close()
                throw HostError.cannotListenToResume(address: address, reason: reason)
            }
            try await journal.appendDurably(source: "host", kind: "outcome", fields: [
                "outcome": .string(Outcome.listenFailed.rawValue), "exit_code": .int(Int64(Outcome.listenFailed.exitCode)),
                "line": .string(line),
            ])
            try await journal.close()
            let report = try ReportBuilder.rebuild(directory)
            try ReportBuilder.write(report, to: directory)
            throw HostError.cannotListen(address: address, reason: reason, runDirectory: directory.url.path)
        }
        let hostInURL = job.listenHost.contains(":") ? "[\(job.listenHost)]" : job.listenHost
        let baseURL = "http://\(hostInURL):\(server.port)"
        let exposed = !Self.isLoopback(job.listenHost)
        journal.append(source: "host", kind: "listening", fields: [
            "host": .string(job.listenHost), "port": .int(Int64(server.port)), "url": .string(baseURL),
            "token": .bool(tokens != nil), "exposed": .bool(exposed),
        ])
        options.logger.info("listening on \(baseURL)\(tokens == nil ? " (no token: anyone who can reach it may talk to it)" : "")")
        if exposed {
            options.logger.warning("listening on \(job.listenHost), which is not a loopback address: other machines can reach this host")
        }

        if options.adoptOrphans { _ = Reaper.becomeSubreaper() }
        let signals = options.handleSignals ? SignalWatch(input, signalled: options.signalled) : nil
        // Held until every guest has exited (`withExtendedLifetime` below): while it lives no other
        // run is given its port.
        let privateNetwork: PrivateNetwork?
        let privateNetworkProblem: String?
        if setup.history.isEmpty {
            do {
                privateNetwork = try PrivateNetwork.forNewRun(job)
                privateNetworkProblem = nil
            } catch {
                privateNetwork = nil
                privateNetworkProblem = "\(error)"
            }
            if let privateNetwork {
                journal.append(source: "host", kind: PrivateNetwork.recordKind, fields: privateNetwork.recordFields(guests: names))
            }
        } else {
            privateNetwork = PrivateNetwork.recorded(setup.history)
            privateNetworkProblem = nil
        }
        let launches = GuestLaunch.all(
            job: job, directory: directory, tokens: tokens, baseURL: baseURL, port: server.port, privateNetwork: privateNetwork)

        var owner = RunOwner(
            job: job, journal: journal, activity: activity, clock: clock, options: options,
            consoles: try job.guests.map {
                try ConsoleWatch(url: directory.console(of: $0.name, several: several), failOn: job.failOn, rebootPattern: job.rebootPattern)
            },
            redact: { tokens?.redact($0) ?? $0 })
        owner.announce = { phase in for plugin in plugins { plugin.runPhaseChanged(phase) } }
        owner.announceGuest = { guest, change in for plugin in plugins { plugin.guestChanged(guest, change) } }
        await withTaskGroup(of: Void.self) { group in
            switch setup.guests {
            case .launch:
                for (index, launch) in launches.enumerated() {
                    let name = job.guests[index].name
                    group.addTask {
                        if let privateNetworkProblem {
                            input.yield(.launchFailed(privateNetworkProblem, guest: index))
                            return
                        }
                        do {
                            if index == 0 { try await options.prepareLaunch?(launch.address) }
                            try await options.prepareGuestLaunch?(name, launch.address)
                        } catch {
                            input.yield(.launchFailed("\(error)", guest: index))
                            return
                        }
                        do {
                            let exit = try await Guest.run(argv: launch.argv, environment: launch.environment, console: launch.console) { pid in
                                input.yield(.launched(pid, guest: index))
                            }
                            input.yield(.exited(exit, guest: index))
                        } catch {
                            input.yield(.launchFailed("\(error)", guest: index))
                        }
                    }
                    owner.begin(index, argv: launch.argv)
                }
            case .adopt(let pids):
                owner.restore(from: setup.history, pids: pids)
                for (index, guest) in job.guests.enumerated() {
                    guard let pid = pids[guest.name] else { continue }
                    group.addTask {
                        await Guest.watch(pid: pid)
                        input.yield(.exited(.unknown, guest: index))
                    }
                }
            }
            var alarm = Alarm(clock: clock) { input.yield(.tick) }
            var lastStatus = 0.0
            func nextWake() -> Double {
                options.status == nil ? owner.nextWake() : min(owner.nextWake(), lastStatus + 0.25)
            }
            alarm.set(at: nextWake())
            // One look at once: a run taken over in the middle of its stop has a stop command
            // waiting to be started.
            input.yield(.tick)
            for await next in inputs {
                if case .tick = next { alarm.rang() }
                owner.handle(next)
                if case .tick = next, let status = options.status, clock.elapsed - lastStatus >= 0.25 {
                    lastStatus = clock.elapsed
                    status(owner.status())
                }
                for (guest, command) in owner.takeStopCommands() {
                    let console = launches[guest].console
                    group.addTask { input.yield(.stopCommandEnded(await runStopCommand(command, console: console), guest: guest)) }
                }
                if owner.isDone { break }
                alarm.set(at: nextWake())
            }
            alarm.cancel()
            group.cancelAll()
        }
        withExtendedLifetime(privateNetwork) {}
        signals?.cancel()
        owner.sweep()
        for plugin in plugins { await plugin.finishFiles(ownRecords(of: type(of: plugin).name, in: directory)) }
        try? await blocking { FileSystemSync.sync(directory) }
        try await owner.recordOutcome()
        await server.stop()
        try await journal.close()
        owner.closeConsoles()
        let report = try ReportBuilder.rebuild(directory)
        try ReportBuilder.write(report, to: directory)
        return RunSummary(outcome: owner.outcome ?? .completed, runDirectory: directory, line: owner.line, report: report)
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host.hasPrefix("127.") || host == "::1"
    }

    /// Runs the operator's stop command to its end; its output goes to the console file.
    private static func runStopCommand(_ argv: [String], console: URL) async -> String {
        let fd = open(console.path, O_WRONLY | O_APPEND | O_CLOEXEC)
        defer { if fd >= 0 { close(fd) } }
        let output = FileDescriptor(rawValue: fd >= 0 ? fd : 2)
        do {
            let executable: Executable = argv[0].contains("/") ? .path(FilePath(argv[0])) : .name(argv[0])
            let result = try await Subprocess.run(
                executable, arguments: Arguments(Array(argv.dropFirst())), input: .none,
                output: .fileDescriptor(output, closeAfterSpawningProcess: false),
                error: .fileDescriptor(output, closeAfterSpawningProcess: false))
            return "\(result.terminationStatus)"
        } catch {
            return "could not run: \(error)"
        }
    }
}

/// The host itself failed; not the guest's doing and not the job's.
public enum HostError: Error, CustomStringConvertible {
    /// Before launch: the listener could not be opened. The run directory holds that outcome.
    case cannotListen(address: String, reason: String, runDirectory: String)
    /// `run --resume` could not take the run's address back; the run and its guest are as they were.
    case cannotListenToResume(address: String, reason: String)

    public var description: String {
        switch self {
        case .cannotListen(let address, let reason, let runDirectory):
            return "cannot listen on \(address): \(reason). The guest was not launched; "
                + "run directory \(runDirectory) (outcome \(Outcome.listenFailed.rawValue))."
        case .cannotListenToResume(let address, let reason):
            return "cannot listen on \(address) again to take the run over: \(reason). The run is as it was; try again, or end it with support-host recover."
        }
    }

    /// The exit code the CLI ends with.
    public var exitCode: Int32 {
        switch self {
        case .cannotListen: return Outcome.listenFailed.exitCode
        case .cannotListenToResume: return Outcome.hostErrorExitCode
        }
    }
}

/// A listener error in words a person can act on, without the socket library's internals.
enum ListenFailure {
    static func reason(_ error: any Error) -> String {
        guard let io = error as? IOError else { return "\(error)" }
        switch io.errnoCode {
        case EADDRINUSE: return "the address is already in use (choose another port with --listen HOST:PORT, or port 0 for any free one)"
        case EADDRNOTAVAIL: return "no network interface of this machine has that address"
        case EACCES: return "permission denied (ports below 1024 need privileges)"
        default: return String(cString: strerror(io.errnoCode))
        }
    }
}

/// Turns Ctrl-C and SIGTERM to the host into run inputs instead of a sudden death.
// Safe: `sources` is set once in init; dispatch sources may be cancelled from any thread.
final class SignalWatch: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]

    init(_ input: AsyncStream<RunInput>.Continuation, signalled: (@Sendable (Int32) -> Void)? = nil) {
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                signalled?(number)
                input.yield(.interrupt(number))
            }
            source.resume()
            return source
        }
    }

    func cancel() {
        for source in sources { source.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
