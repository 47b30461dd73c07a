import ArgumentParser
import Foundation
import SupportHost

@main
struct SupportHostCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "support-host",
        abstract: "Runs a guest command and serves it over HTTP: ping, results, platforms, a CPAN mirror.",
        subcommands: [
            RunCommand.self, ReportCommand.self, RecoverCommand.self, PlatformsCommand.self, PluginsCommand.self, DemoCommand.self,
            DemoGuestCommand.self,
        ])
}

/// Exits with `code` after printing `message` to standard error.
func fail(_ message: String, code: Int32) -> ExitCode {
    FileHandle.standardError.write(Data("support-host: \(message)\n".utf8))
    return ExitCode(code)
}

func selfExecutable() -> String {
    URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
}
