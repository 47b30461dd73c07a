import FoundationEssentials
import PluginAPI

/// The runs under a directory, for `support-host runs`: each one's start, command, outcome,
/// duration and grade, read from its report, or from its journal while it has none yet.
public enum RunListing {
    public struct Entry: Sendable {
        public let directory: String
        /// ISO 8601, UTC; empty when the journal has no record yet.
        public let started: String
        public let command: String
        /// The outcome, or nil while the run has none (running, or its host died).
        public let outcome: String?
        public let duration: Double?
        public let grade: String?
    }

    /// Every run directory (one holding `journal.log`) at most `depth` levels under `root`,
    /// newest first. Matrix cells sit a few levels down; deeper folders are results.
    public static func list(_ root: URL, depth: Int = 4) -> [Entry] {
        runDirectories(under: root.standardizedFileURL, depth: depth).compactMap(entry).sorted {
            ($0.started, $0.directory) > ($1.started, $1.directory)
        }
    }

    static func runDirectories(under url: URL, depth: Int) -> [URL] {
        let manager = FileManager.default
        if manager.fileExists(atPath: url.appendingPathComponent("journal.log").path) { return [url] }
        guard depth > 0, let names = try? manager.contentsOfDirectory(atPath: url.path) else { return [] }
        return names.flatMap { name -> [URL] in
            let child = url.appendingPathComponent(name)
            var isDirectory = false
            guard manager.fileExists(atPath: child.path, isDirectory: &isDirectory), isDirectory else { return [] }
            return runDirectories(under: child, depth: depth - 1)
        }
    }

    static func entry(_ url: URL) -> Entry? {
        let directory = RunDirectory(url: url)
        let report: JSONValue
        if let data = try? Data(contentsOf: directory.report), let decoded = try? JSONValue.decode(data) {
            report = decoded
        } else if let rebuilt = try? ReportBuilder.rebuild(directory) {
            report = rebuilt
        } else {
            return nil
        }
        let command = report["command"]?.arrayValue?.compactMap(\.stringValue).joined(separator: " ") ?? ""
        return Entry(
            directory: url.path, started: report["started"]?.stringValue ?? "", command: command,
            outcome: report["outcome"]?.stringValue, duration: report["duration"]?.doubleValue,
            grade: report["grade"]?.stringValue)
    }
}
