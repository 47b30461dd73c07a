import ArgumentParser
import FoundationEssentials
import PluginAPI
import SupportHost

struct PlatformsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "platforms", abstract: "Compare the platforms runs reported.", subcommands: [PlatformsDiffCommand.self])
}

struct PlatformsDiffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show which platform pairs differ between two runs.",
        discussion: """
            Platforms are matched by scheme and path. Prints one line per difference: a platform \
            only in one run, or a pair (env.KEY, config.KEY) added, removed or changed. Exits 0 when \
            every platform hashes the same in both runs, 1 when any differs.
            """)

    @Argument(help: "The first run directory.")
    var runA: String

    @Argument(help: "The second run directory.")
    var runB: String

    func run() async throws {
        let a = try Self.platforms(of: runA)
        let b = try Self.platforms(of: runB)
        let lines = PlatformDiff.lines(a, b)
        if lines.isEmpty {
            print("same platforms (\(a.count)) in both runs")
        } else {
            print("--- \(runA)\n+++ \(runB)")
            lines.forEach { print($0) }
            throw ExitCode(1)
        }
    }

    static func platforms(of runDir: String) throws -> [JSONValue] {
        let directory = RunDirectory(url: URL(fileURLWithPath: runDir))
        guard let data = try? Data(contentsOf: directory.report), let report = try? JSONValue.decode(data) else {
            throw fail("no readable report.json in \(runDir)", code: 66)
        }
        return report["platforms"]?.arrayValue ?? []
    }
}
