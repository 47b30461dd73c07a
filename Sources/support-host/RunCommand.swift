import ArgumentParser
import FoundationEssentials
import SupportHost

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Launch a guest command and serve it until the run ends.",
        discussion: """
            The guest learns the host's address from {url}, {host} and {port} in its arguments and from SUPPORT_HOST_URL / SUPPORT_HOST_HOST / SUPPORT_HOST_PORT in its environment. Flags override the job file.

            Exit codes:
            \(Outcome.exitCodeTable)
            """)

    @Option(help: ArgumentHelp("A JSON job file (PITA's keys or ours).", valueName: "file"))
    var job: String?

    @Option(help: ArgumentHelp("Take over the run in this directory whose host died while its guest still runs.", valueName: "run-dir"))
    var resume: String?

    @OptionGroup var guestRun: GuestRunFlags

    @Option(name: .customLong("result"), help: ArgumentHelp("A result path the guest must PUT (repeatable).", valueName: "path"))
    var results: [String] = []

    @Option(name: .customLong("optional-result"), help: ArgumentHelp("A result path the guest may PUT (repeatable).", valueName: "path"))
    var optionalResults: [String] = []

    @Flag(help: "Answer a mirror directory with a simple HTML index instead of 404.")
    var mirrorIndex = false

    @Option(parsing: .unconditional, help: ArgumentHelp("Seconds between SIGTERM and SIGKILL (default 5).", valueName: "seconds"))
    var killGrace: Double?

    @Option(parsing: .unconditional, help: ArgumentHelp("Largest result file accepted (default 1 GiB).", valueName: "bytes"))
    var maxResultSize: Int64?

    @Option(help: ArgumentHelp("The run directory (default ./runs/<UTC time>-<4 hex>); it must not exist or be empty.", valueName: "run-dir"))
    var runDir: String?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Seconds a guest may extend its total deadline by with POST /watchdog, in total (default 0: not allowed).", valueName: "seconds"))
    var maxExtend: Double?

    @Option(help: ArgumentHelp("auto (a fresh secret per run, the default), none (for images that only know root paths), or your own.", valueName: "token"))
    var token: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Connections open at once (default 64); when full, one that has not presented the token gives way, else the new one is refused.", valueName: "count"))
    var maxConnections: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("Bytes of request headers; more get 431 (default 16384).", valueName: "bytes"))
    var maxHeaderBytes: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("Seconds a connection may wait for a request head or stall in a body (default 30).", valueName: "seconds"))
    var idleTimeout: Double?

    @Option(help: ArgumentHelp("A regular expression for a boot banner: seen again, the guest rebooted.", valueName: "regex"))
    var rebootPattern: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Reboots allowed before the run ends as reboot-loop (default 0).", valueName: "count"))
    var maxReboots: Int?

    @Flag(help: ArgumentHelp("Give every durable journal record its own fsync (to measure group commit).", visibility: .hidden))
    var noGroupCommit = false

    @Flag(help: "Print only the last line (the outcome in words).")
    var quiet = false

    @Flag(help: "Print details too: the guest's command line, stop steps.")
    var verbose = false

    @Argument(parsing: .postTerminator, help: ArgumentHelp("The guest command, after --.", valueName: "command"))
    var command: [String] = []

    func run() async throws {
        if let resume {
            guard job == nil, command.isEmpty else {
                throw fail("bad job: --resume takes the job from the run's journal; give no --job or command", code: Outcome.badJobExitCode)
            }
            try await resumeRun(RunDirectory(url: URL(fileURLWithPath: resume)))
        }
        var prepared: JobSettings
        do throws(JobError) {
            prepared = try settings()
        } catch {
            throw fail("bad job: \(error)", code: Outcome.badJobExitCode)
        }
        // Guests given by kind (local, qemu:ARCH) are planned and given their commands first.
        let kinds: GuestKinds
        do {
            kinds = try await GuestKinds.prepare(&prepared)
        } catch let error as JobError {
            throw fail("bad job: \(error)", code: Outcome.badJobExitCode)
        } catch {
            throw fail("bad job: \(error)", code: Outcome.badJobExitCode)
        }
        defer { kinds.remove() }
        let job: Job
        do throws(JobError) {
            job = try Job(prepared)
        } catch {
            throw fail("bad job: \(error)", code: Outcome.badJobExitCode)
        }
        let console = Console.shared
        var options = RunOptions()
        options.handleSignals = true
        options.adoptOrphans = true
        options.groupCommit = !noGroupCommit
        options.logger = console.logger(level: quiet ? .warning : verbose ? .debug : .info)
        if !quiet { options.status = { console.status($0) } }
        options.prepareGuestLaunch = { guest, address in try await kinds.prepareLaunch(guest: guest, address: address) }
        do {
            let summary = try await SupportHostRun.execute(job, options: options)
            console.endStatus()
            if !quiet { print("support-host: run directory: \(summary.runDirectory.url.path)") }
            print(summary.line)
            if !quiet { ReportText.whyLines(summary.report, consoleLines: ConsoleTailText.runEndLines).forEach { print($0) } }
            throw ExitCode(summary.outcome.exitCode)
        } catch let error as JobError {
            throw fail("bad job: \(error)", code: Outcome.badJobExitCode)
        } catch let error as HostError {
            throw fail("\(error)", code: error.exitCode)
        }
    }

    private func resumeRun(_ directory: RunDirectory) async throws -> Never {
        let console = Console.shared
        var options = RunOptions()
        options.handleSignals = true
        options.logger = console.logger(level: quiet ? .warning : verbose ? .debug : .info)
        if !quiet { options.status = { console.status($0) } }
        do {
            let summary = try await SupportHostRun.resume(directory, options: options)
            console.endStatus()
            print(summary.line)
            throw ExitCode(summary.outcome.exitCode)
        } catch let error as ResumeError {
            guard case .guestGone = error else { throw fail("cannot resume: \(error)", code: Outcome.badJobExitCode) }
            let result = try await Recovery.recover(directory)
            print("the guest is gone: recovered the run instead (outcome \(result.outcome))")
            throw ExitCode(Outcome(rawValue: result.outcome)?.exitCode ?? Outcome.hostCrashed.exitCode)
        } catch let error as HostError {
            throw fail("\(error)", code: error.exitCode)
        }
    }

    private func settings() throws(JobError) -> JobSettings {
        var settings = try job.map { path throws(JobError) in try JobSettings.load(path: path) } ?? JobSettings()
        if !command.isEmpty { settings.command = command }
        try guestRun.apply(to: &settings)
        settings.results += results
        settings.optionalResults += optionalResults
        if mirrorIndex { settings.mirrorIndex = true }
        settings.set(\.killGrace, killGrace, flag: "--kill-grace", setting: "kill grace")
        if let maxResultSize { settings.maxResultSize = maxResultSize }
        if let runDir { settings.runDirectory = runDir }
        settings.set(\.maxExtend, maxExtend, flag: "--max-extend", setting: "max extend")
        if let token { settings.token = token }
        settings.set(\.maxConnections, maxConnections, flag: "--max-connections", setting: "max connections")
        settings.set(\.maxHeaderBytes, maxHeaderBytes, flag: "--max-header-bytes", setting: "max header bytes")
        settings.set(\.idleTimeout, idleTimeout, flag: "--idle-timeout", setting: "idle timeout")
        if let rebootPattern { settings.rebootPattern = rebootPattern }
        settings.set(\.maxReboots, maxReboots, flag: "--max-reboots", setting: "max reboots")
        return settings
    }
}
