import ArgumentParser
import FoundationEssentials
import SupportHost
import SupportKit

#if canImport(Glibc)
import Glibc
#endif

@main
struct SupportHostCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "support-host",
        abstract: "Runs a guest command and serves it over HTTP: ping, results, platforms, a CPAN mirror.",
        discussion: """
            Scheme verbs, offered by the plug-ins: \(PluginTable.verbs.map { $0.verb.name + ($0.verb.argument.map { " " + $0 } ?? "") }.joined(separator: ", ")). Each has its own help: support-host help VERB. support-host plugins lists the plug-ins and their verbs.
            """,
        version: SupportHostVersion.text,
        subcommands: [
            RunCommand.self, ReportCommand.self, RunsCommand.self, RecoverCommand.self, PlatformsCommand.self, PluginsCommand.self,
            DemoCommand.self, DemoGuestCommand.self, VerbCommand.self, MatrixCommand.self, ServeCommand.self, FillJournalCommand.self,
        ])

    /// `support-host VERB …` for a verb in the plug-in table goes to `VerbCommand`; the tool
    /// itself knows no verb. `support-host VERB --help` and `support-host help VERB` print
    /// that verb's own help.
    static func main() async {
        var arguments = Array(CommandLine.arguments.dropFirst())
        let verbNamed = { (name: String?) in PluginTable.verbs.first { $0.verb.name == name } }
        if let entry = verbNamed(arguments.first), asksForHelp(Array(arguments.dropFirst())) {
            print(VerbCommand.help(for: entry.verb, plugin: entry.plugin))
            return
        }
        if arguments.first == "help", let entry = verbNamed(arguments.dropFirst().first) {
            print(VerbCommand.help(for: entry.verb, plugin: entry.plugin))
            return
        }
        if verbNamed(arguments.first) != nil {
            arguments.insert(VerbCommand.configuration.commandName ?? "scheme-verb", at: 0)
        }
        await main(arguments)
    }

    /// `-h`/`--help` before any `--` (after it, they belong to the guest's command).
    private static func asksForHelp(_ arguments: [String]) -> Bool {
        arguments.prefix { $0 != "--" }.contains { $0 == "--help" || $0 == "-h" }
    }
}

/// Exits with `code` after printing `message` to standard error.
func fail(_ message: String, code: Int32) -> ExitCode {
    try? FileIO.writeAll(STDERR_FILENO, Data("support-host: \(message)\n".utf8))
    return ExitCode(code)
}

func selfExecutable() -> String {
    URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
}

/// For the benchmark: a journal of many records, to time `recover` on.
struct FillJournalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fill-journal", abstract: "Write a journal of N mirror requests (for scripts/bench).", shouldDisplay: false)

    @Argument(help: "A run directory that does not exist yet.")
    var runDir: String

    @Argument(help: "How many mirror request records.")
    var records: Int

    func run() async throws {
        try await JournalFiller.fill(RunDirectory(url: URL(fileURLWithPath: runDir)), mirrorRequests: records)
    }
}
