import FoundationEssentials
import SupportKit

#if canImport(Glibc)
import Glibc
#endif

/// The run directory: the job's output, self-contained.
///
/// `journal.log` (the source of truth), `report.json` (derived from it), `console.log` (the
/// guest's output) and `results/` (the captured files).
public struct RunDirectory: Sendable {
    public let url: URL

    public var journal: URL { url.appendingPathComponent("journal.log") }
    public var report: URL { url.appendingPathComponent("report.json") }
    public var console: URL { url.appendingPathComponent("console.log") }
    public var results: URL { url.appendingPathComponent("results", isDirectory: true) }

    /// One guest's console: `console.log` in a run of one guest, `console-NAME.log` in a run of several.
    public func console(of guest: String, several: Bool) -> URL {
        several ? url.appendingPathComponent("console-\(guest).log") : console
    }

    public init(url: URL) { self.url = url }

    /// Creates the directory (default: `./runs/<UTC time>`); an existing one must be empty.
    static func create(_ path: String?) throws(JobError) -> RunDirectory {
        let manager = FileManager.default
        let chosen = path ?? Self.defaultPath()
        let url = URL(fileURLWithPath: chosen).standardizedFileURL
        var isDirectory = false
        if manager.fileExists(atPath: url.path, isDirectory: &isDirectory) {
            guard isDirectory else { throw .badRunDirectory(path: chosen, reason: "it is a file") }
            let contents = (try? manager.contentsOfDirectory(atPath: url.path)) ?? []
            guard contents.isEmpty else { throw .badRunDirectory(path: chosen, reason: "it is not empty (one run per directory)") }
        }
        let directory = RunDirectory(url: url)
        do {
            try manager.createDirectory(at: directory.results, withIntermediateDirectories: true)
        } catch {
            throw .badRunDirectory(path: chosen, reason: fileErrorText(error))
        }
        return directory
    }

    /// Takes back a directory `create` made for a run that never began (a job refused by a
    /// plug-in): what is left is the journal of the refusal, not a run. A directory the caller
    /// had made empty stays, empty.
    func discard(createdByUs: Bool) {
        let manager = FileManager.default
        let consoles = ((try? manager.contentsOfDirectory(atPath: url.path)) ?? [])
            .filter { $0.hasPrefix("console-") && $0.hasSuffix(".log") }.map { url.appendingPathComponent($0) }
        for item in [journal, console, results] + consoles { try? manager.removeItem(at: item) }
        if createdByUs { try? manager.removeItem(at: url) }
    }

    /// `runs/<UTC time>-<4 hex>`, the same for every command, so runs sort by their start.
    public static func defaultPath() -> String {
        "runs/" + timestampName()
    }

    private static func timestampName() -> String {
        var seconds = time(nil)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let stamp = String(
            printf: "%04ld%02ld%02ld-%02ld%02ld%02ld", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
        return stamp + "-" + String(UUID().uuidString.prefix(4)).lowercased()
    }
}
