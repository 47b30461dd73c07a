import ArgumentParser
import Foundation
import SupportHost

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Launch a guest command and serve it until the run ends.",
        discussion: """
            The guest learns the host's address from {url}, {host} and {port} in its arguments and
            from SUPPORT_HOST_URL / SUPPORT_HOST_HOST / SUPPORT_HOST_PORT in its environment.
            Flags override the job file.

            Exit codes:
            \(Outcome.exitCodeTable)
            """)

    @Option(help: "A JSON job file (PITA's keys or ours).")
    var job: String?

    @Option(help: "Take over the run in RUN_DIR whose host died while its guest still runs.")
    var resume: String?

    @OptionGroup var guestRun: GuestRunFlags

    @Option(name: .customLong("result"), help: "A result path the guest must PUT (repeatable).")
    var results: [String] = []

    @Option(name: .customLong("optional-result"), help: "A result path the guest may PUT (repeatable).")
    var optionalResults: [String] = []

    @Flag(help: "Answer a mirror directory with a simple HTML index instead of 404.")
    var mirrorIndex = false

    @Option(help: "Seconds between SIGTERM and SIGKILL (default 5).")
    var killGrace: Double?

    @Option(help: "Largest result file accepted, in bytes (default 1 GiB).")
    var maxResultSize: Int64?

    @Option(help: "The run directory (default ./runs/<time>); it must not exist or be empty.")
    var runDir: String?

    @Option(help: "Seconds a guest may extend its total deadline by with POST /watchdog, in total (default 0: not allowed).")
    var maxExtend: Double?

    @Option(help: "auto (a fresh secret per run, the default), none (for images that only know root paths), or your own.")
    var token: String?

    @Option(help: "Connections open at once; more are refused (default 64).")
    var maxConnections: Int?

    @Option(help: "Bytes of request headers; more get 431 (default 16384).")
    var maxHeaderBytes: Int?

    @Option(help: "Seconds a connection may wait for a request head or stall in a body (default 30).")
    var idleTimeout: Double?

    @Option(help: "A regular expression for a boot banner: seen again, the guest rebooted.")
    var rebootPattern: String?

    @Option(help: "Reboots allowed before the run ends as reboot-loop (default 0).")
    var maxReboots: Int?

    @Flag(help: ArgumentHelp("Give every durable journal record its own fsync (to measure group commit).", visibility: .hidden))
    var noGroupCommit = false

    @Flag(help: "Print only the last line (the outcome in words).")
    var quiet = false

    @Flag(help: "Print details too: the guest's command line, stop steps.")
    var verbose = false

    @Argument(parsing: .postTerminator, help: "The guest command, after --.")
    var command: [String] = []

    func run() async throws {
        if let resume {
            guard job == nil, command.isEmpty else {
                throw fail("bad job: --resume takes the job from the run's journal; give no --job or command", code: Outcome.badJobExitCode)
            }
            try await resumeRun(RunDirectory(url: URL(fileURLWithPath: resume)))
        }
        let job: Job
        do throws(JobError) {
            job = try Job(try settings())
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
        do {
            let summary = try await SupportHostRun.execute(job, options: options)
            console.endStatus()
            if !quiet { print("support-host: run directory: \(summary.runDirectory.url.path)") }
            print(summary.line)
            throw ExitCode(summary.outcome.exitCode)
        } catch let error as JobError {
            throw fail("bad job: \(error)", code: Outcome.badJobExitCode)
        } catch let error as HostError {
            throw fail("\(error)", code: Outcome.hostErrorExitCode)
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
            throw fail("\(error)", code: Outcome.hostErrorExitCode)
        }
    }

    private func settings() throws(JobError) -> JobSettings {
        var settings = try job.map { path throws(JobError) in try JobSettings.load(path: path) } ?? JobSettings()
        if !command.isEmpty { settings.command = command }
        try guestRun.apply(to: &settings)
        settings.results += results
        settings.optionalResults += optionalResults
        if mirrorIndex { settings.mirrorIndex = true }
        if let killGrace { settings.killGrace = killGrace }
        if let maxResultSize { settings.maxResultSize = maxResultSize }
        if let runDir { settings.runDirectory = runDir }
        if let maxExtend { settings.maxExtend = maxExtend }
        if let token { settings.token = token }
        if let maxConnections { settings.maxConnections = maxConnections }
        if let maxHeaderBytes { settings.maxHeaderBytes = maxHeaderBytes }
        if let idleTimeout { settings.idleTimeout = idleTimeout }
        if let rebootPattern { settings.rebootPattern = rebootPattern }
        if let maxReboots { settings.maxReboots = maxReboots }
        return settings
    }
}
