import FoundationEssentials
import PluginAPI

/// Writes the journal of a long run that never ended, through the real journal writer, so the
/// benchmark can time `recover` on a journal of a million records without a million requests.
public enum JournalFiller {
    public static func fill(_ directory: RunDirectory, mirrorRequests: Int) async throws {
        try FileManager.default.createDirectory(at: directory.results, withIntermediateDirectories: true)
        let clock = RunClock()
        let journal = try Journal(url: directory.journal, clock: clock)
        var settings = JobSettings()
        settings.command = ["/bin/true"]
        settings.runDirectory = directory.url.path
        let job = try Job(settings)
        var prepared = job.fields
        prepared["run_dir"] = .string(directory.url.path)
        prepared["job"] = job.jobFile
        try await journal.appendDurably(source: "host", kind: "run-prepared", fields: prepared)
        journal.append(source: "host", kind: "listening", fields: ["host": "127.0.0.1", "port": 1, "url": "http://127.0.0.1:1"])
        journal.append(source: "host", kind: "guest-launched", fields: ["pid": 1])
        for index in 0..<mirrorRequests {
            journal.append(source: PluginTable.mirrorSource, kind: "request", fields: [
                "method": "GET", "path": .string("/cpan/authors/id/L/LO/LOCAL/file-\(index % 1000).tar.gz"), "status": 200,
                "bytes_in": 0, "bytes_out": 1024, "duration": 0.000123,
            ])
        }
        try await journal.close()
    }
}
