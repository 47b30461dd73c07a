import ArgumentParser
import FoundationEssentials
import SupportHost
import SupportKit

/// `support-host runs [DIR]`: the first question after a night of runs — what ran, and how it ended.
struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs", abstract: "List the runs under a directory, newest first.")

    @Argument(help: ArgumentHelp("Where the run directories are (matrix output directories too).", valueName: "dir"))
    var directory = "runs"

    @Option(help: ArgumentHelp("Only runs with this outcome (e.g. completed, activity-timeout) or 'running'.", valueName: "outcome"))
    var outcome: String?

    func run() throws {
        var isDirectory = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory else {
            throw fail("\(directory) does not exist (runs go to ./runs unless --run-dir says otherwise)", code: 66)
        }
        let entries = RunListing.list(URL(fileURLWithPath: directory)).filter { entry in
            guard let outcome else { return true }
            return (entry.outcome ?? "running") == outcome
        }
        guard !entries.isEmpty else {
            print(outcome == nil ? "no runs under \(directory)" : "no runs under \(directory) with outcome \(outcome!)")
            return
        }
        let rows = entries.map { entry in
            [
                entry.started.isEmpty ? "?" : String(entry.started.replacingEvery("T", with: " ").prefix(19)),
                entry.duration.map { clockText($0) } ?? "-",
                entry.outcome ?? "no outcome (running, or its host died)",
                entry.grade ?? "-",
                Self.shortened(entry.command, to: 48),
                Self.relative(entry.directory),
            ]
        }
        print(TextTable(header: ["STARTED (UTC)", "TIME", "OUTCOME", "GRADE", "COMMAND", "RUN DIRECTORY"], rows: rows).text)
    }

    static func shortened(_ text: String, to width: Int) -> String {
        text.count <= width ? text : String(text.prefix(width - 1)) + "…"
    }

    static func relative(_ path: String) -> String {
        let here = FileManager.default.currentDirectoryPath + "/"
        return path.hasPrefix(here) ? String(path.dropFirst(here.count)) : path
    }
}
