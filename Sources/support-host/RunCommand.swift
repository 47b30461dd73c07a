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

    @Option(name: .long, help: "A JSON job file (PITA's keys or ours).")
    var job: String?

    @Option(name: .long, help: "Address to listen on, HOST:PORT (default 127.0.0.1:0, any free port).")
    var listen: String?

    @Option(name: .customLong("result"), help: "A result path the guest must PUT (repeatable).")
    var results: [String] = []

    @Option(name: .customLong("optional-result"), help: "A result path the guest may PUT (repeatable).")
    var optionalResults: [String] = []

    @Option(name: .customLong("mirror"), help: "Serve DIR read-only under PREFIX, as PREFIX=DIR (repeatable).")
    var mirrors: [String] = []

    @Flag(help: "Answer a mirror directory with a simple HTML index instead of 404.")
    var mirrorIndex = false

    @Option(help: "Seconds from launch to the first GET / (default 300).")
    var startupTimeout: Double?

    @Option(help: "Seconds without any request once started (default 300).")
    var activityTimeout: Double?

    @Option(help: "Seconds for the whole run (default 14400).")
    var totalTimeout: Double?

    @Option(help: "Seconds the guest has to exit after its last required result (default 30).")
    var shutdownTimeout: Double?

    @Option(help: "A shell command that asks the guest to stop (e.g. system_powerdown to a qemu monitor).")
    var stopCommand: String?

    @Option(help: "Seconds to wait after the stop command (default 30).")
    var stopGrace: Double?

    @Option(help: "Seconds between SIGTERM and SIGKILL (default 5).")
    var killGrace: Double?

    @Option(help: "Largest result file accepted, in bytes (default 1 GiB).")
    var maxResultSize: Int64?

    @Option(help: "The run directory (default ./runs/<time>); it must not exist or be empty.")
    var runDir: String?

    @Flag(help: "Print only the last line.")
    var quiet = false

    @Argument(parsing: .postTerminator, help: "The guest command, after --.")
    var command: [String] = []

    func run() async throws {
        let job: Job
        do throws(JobError) {
            job = try Job(try settings())
        } catch {
            throw fail("bad job: \(error)", code: Outcome.badJobExitCode)
        }
        var options = RunOptions()
        options.handleSignals = true
        options.adoptOrphans = true
        let quiet = self.quiet
        // Flushed per line: an operator or a test tailing the output sees "listening on" at once.
        options.progress = { line in
            if !quiet {
                print("support-host: \(line)")
                fflush(nil)
            }
        }
        do {
            let summary = try await SupportHostRun.execute(job, options: options)
            if quiet { print(summary.line) }
            print("run directory: \(summary.runDirectory.url.path)")
            throw ExitCode(summary.outcome.exitCode)
        } catch let error as JobError {
            throw fail("bad job: \(error)", code: Outcome.badJobExitCode)
        } catch let error as HostError {
            throw fail("\(error)", code: Outcome.hostErrorExitCode)
        }
    }

    private func settings() throws(JobError) -> JobSettings {
        var settings = try job.map { path throws(JobError) in try JobSettings.load(path: path) } ?? JobSettings()
        if !command.isEmpty { settings.command = command }
        if let listen { (settings.listenHost, settings.listenPort) = try JobSettings.parseListen(listen) }
        settings.results += results
        settings.optionalResults += optionalResults
        for mirror in mirrors { settings.mirrors.append(try JobSettings.parseMirror(mirror)) }
        if mirrorIndex { settings.mirrorIndex = true }
        if let startupTimeout { settings.startupTimeout = startupTimeout }
        if let activityTimeout { settings.activityTimeout = activityTimeout }
        if let totalTimeout { settings.totalTimeout = totalTimeout }
        if let shutdownTimeout { settings.shutdownTimeout = shutdownTimeout }
        if let stopCommand { settings.stopCommand = ["/bin/sh", "-c", stopCommand] }
        if let stopGrace { settings.stopGrace = stopGrace }
        if let killGrace { settings.killGrace = killGrace }
        if let maxResultSize { settings.maxResultSize = maxResultSize }
        if let runDir { settings.runDirectory = runDir }
        return settings
    }
}
