import FoundationEssentials
import PluginAPI
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The runs under the served directory, each summarised once per change: a finished run's
/// report is parsed again only when `report.json` changes, a live run's journal only when it
/// grows. With a thousand finished runs a listing is then a thousand `stat`s.
final class RunIndex: Sendable {
    let root: URL
    private let cache = Mutex<[String: (stamp: Stamp, summary: ServedRun)]>([:])

    /// Sizes and modification times of the files a summary is made from.
    struct Stamp: Equatable {
        var report: [Int]
        var journal: [Int]
    }

    init(root: URL) {
        self.root = root.standardizedFileURL.resolvingSymlinksInPath()
    }

    /// Every run, newest first.
    func summaries() -> [ServedRun] {
        let directories = RunListing.runDirectories(under: root, depth: 4)
        var seen = Set<String>()
        let summaries = directories.compactMap { url -> ServedRun? in
            let id = relativeID(url)
            seen.insert(id)
            return summary(id: id, url: url)
        }
        cache.withLock { entries in entries = entries.filter { seen.contains($0.key) } }
        return summaries.sorted { ($0.started, $0.id) > ($1.started, $1.id) }
    }

    func summary(id: String, url: URL) -> ServedRun? {
        let directory = RunDirectory(url: url)
        let stamp = Stamp(report: Self.stat(directory.report), journal: Self.stat(directory.journal))
        if let cached = cache.withLock({ $0[id] }), cached.stamp == stamp { return cached.summary }
        guard let report = Self.report(directory) else { return nil }
        let summary = ServedRun(id: id, report: report)
        cache.withLock { $0[id] = (stamp, summary) }
        return summary
    }

    /// The report of a finished run, or the one its journal gives so far.
    static func report(_ directory: RunDirectory) -> JSONValue? {
        if let data = try? Data(contentsOf: directory.report), let report = try? JSONValue.decode(data) { return report }
        return try? ReportBuilder.rebuild(directory)
    }

    /// The directory of the run `id` (a path relative to the root, as the pages give it), or
    /// nil unless it is a run directory inside the root: no `..`, no hidden component, no
    /// symbolic link out.
    func directory(for id: String) -> URL? {
        if id == "." {
            return FileManager.default.fileExists(atPath: root.appendingPathComponent("journal.log").path) ? root : nil
        }
        let parts = id.split(separator: "/", omittingEmptySubsequences: false)
        guard !id.isEmpty, parts.count <= 8,
            parts.allSatisfy({ !$0.isEmpty && !$0.hasPrefix(".") && !$0.contains("\0") && !$0.contains("\\") })
        else { return nil }
        let url = root.appendingPathComponent(id).standardizedFileURL.resolvingSymlinksInPath()
        guard url.path.hasPrefix(root.path + "/"),
            FileManager.default.fileExists(atPath: url.appendingPathComponent("journal.log").path)
        else { return nil }
        return url
    }

    func relativeID(_ url: URL) -> String {
        let path = url.standardizedFileURL.path
        let prefix = root.path.hasSuffix("/") ? root.path : root.path + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : (path == root.path ? "." : path)
    }

    static func stat(_ url: URL) -> [Int] {
        var info = Glibc.stat()
        guard lstat(url.path, &info) == 0 else { return [] }
        return [Int(info.st_size), Int(info.st_mtim.tv_sec), Int(info.st_mtim.tv_nsec), Int(info.st_ino)]
    }
}
