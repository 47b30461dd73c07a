import ArgumentParser
import Foundation
import SupportHost

@main
struct SupportHostCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "support-host",
        abstract: "Runs a guest command and serves it over HTTP: ping, results, platforms, a CPAN mirror.",
        discussion: """
            Scheme verbs, offered by the plug-ins (support-host VERB --help):
            \(VerbCommand.verbListing)
            """,
        subcommands: [
            RunCommand.self, ReportCommand.self, RecoverCommand.self, PlatformsCommand.self, PluginsCommand.self, DemoCommand.self,
            DemoGuestCommand.self, VerbCommand.self, MatrixCommand.self, FillJournalCommand.self,
        ])

    /// `support-host VERB …` for a verb in the plug-in table goes to `VerbCommand`; the tool
    /// itself knows no verb.
    static func main() async {
        var arguments = Array(CommandLine.arguments.dropFirst())
        if let first = arguments.first, PluginTable.verbs.contains(where: { $0.verb.name == first }) {
            arguments.insert(VerbCommand.configuration.commandName ?? "scheme-verb", at: 0)
        }
        await main(arguments)
    }
}

/// Exits with `code` after printing `message` to standard error.
func fail(_ message: String, code: Int32) -> ExitCode {
    FileHandle.standardError.write(Data("support-host: \(message)\n".utf8))
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
