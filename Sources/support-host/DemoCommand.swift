import ArgumentParser
import FoundationEssentials
import PluginAPI
import SupportHost

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "A whole run with a built-in guest: ping, a mirror read, a result upload, exit.")

    @Option(help: ArgumentHelp("The run directory (default ./runs/<UTC time>-<4 hex>, as every command names it).", valueName: "run-dir"))
    var runDir: String?

    func run() async throws {
        let mirror = FileManager.default.temporaryDirectory.appendingPathComponent("support-host-demo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: mirror, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: mirror) }
        try Data("Hello from the SupportHost demo mirror.\n".utf8).write(to: mirror.appendingPathComponent("hello.txt"))

        var settings = JobSettings()
        settings.command = [selfExecutable(), "demo-guest"]
        settings.results = ["/result.json"]
        settings.mirrors = [("/cpan", mirror.path)]
        settings.startupTimeout = 30
        settings.activityTimeout = 30
        settings.totalTimeout = 120
        settings.runDirectory = runDir
        let job = try Job(settings)

        var options = RunOptions()
        options.handleSignals = true
        options.logger = Console.shared.logger(level: .info)
        let summary = try await SupportHostRun.execute(job, options: options)
        print(summary.line)
        print("")
        print(ReportText.render(summary.report))
        print("")
        print("run directory: \(summary.runDirectory.url.path)")
        print("  journal.log  report.json  console.log  results/")
        throw ExitCode(summary.outcome.exitCode)
    }
}

struct DemoGuestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo-guest", abstract: "The demo's built-in guest (run by `demo`).", shouldDisplay: false)

    func run() async throws {
        guard let url = ProcessInfo.processInfo.environment["SUPPORT_HOST_URL"] else {
            throw fail("demo-guest runs under `support-host demo` (SUPPORT_HOST_URL is not set)", code: 2)
        }
        try await DemoGuest.run(baseURL: url)
    }
}
