import CSupport
import Crypto
import Foundation
import PluginAPI

#if canImport(Glibc)
import Glibc
#endif

/// Small results travel in the journal: their `result-stored` record carries the bytes
/// (`inline_base64`), and its fsync is the one that made the upload durable — the file itself
/// was written without one. After a machine crash such a file may be missing, empty or torn;
/// `recover` writes it back from the record.
enum InlineResults {
    static let field = JournalEntry.inlineResultField

    /// Writes back the files (relative to the run directory, each with the digest the report
    /// expects) whose bytes a `result-stored` record of the Test plug-in holds; returns those
    /// restored. One more pass over the journal, made only when a result failed its check.
    static func restore(_ expected: [String: String], in directory: RunDirectory) -> Set<String> {
        guard !expected.isEmpty, let journal = try? MappedJournal(directory.journal) else { return [] }
        var found: [String: String] = [:]
        _ = JournalFormat.scan(journal.bytes) { entry in
            guard entry.source == "Test", entry.kind == "result-stored", let file = entry.field("file")?.stringValue,
                expected[file] != nil, isResultFile(file), let inline = entry.field(field)?.stringValue
            else { return }
            found[file] = inline
        }
        var restored: Set<String> = []
        for (file, encoded) in found {
            guard let bytes = Data(base64Encoded: encoded), hexEncoded(SHA256.hash(data: bytes)) == expected[file],
                write(bytes, to: directory.url.appendingPathComponent(file))
            else { continue }
            restored.insert(file)
        }
        return restored
    }

    /// `results/NAME` with a plain name: a record can never make `recover` write elsewhere.
    static func isResultFile(_ file: String) -> Bool {
        guard file.hasPrefix("results/") else { return false }
        let name = file.dropFirst("results/".count)
        return !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.contains("\0")
    }

    /// Makes every file of the run's file system durable (one `syncfs`): small results were
    /// written without an fsync of their own, and a finished run should not need `recover` to
    /// have them after a machine crash.
    static func syncResults(_ directory: RunDirectory) {
        let fd = open(directory.results.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = csupport_syncfs(fd)
        close(fd)
    }

    /// Temporary file, fsync, rename, fsync of the directory: the restored file is durable.
    private static func write(_ bytes: Data, to url: URL) -> Bool {
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".restoring-\(UUID().uuidString)")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return false }
        let written = bytes.withUnsafeBytes { raw in raw.count == 0 ? 0 : Glibc.write(fd, raw.baseAddress!, raw.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == bytes.count, synced, rename(temporary.path, url.path) == 0 else {
            unlink(temporary.path)
            return false
        }
        let directory = open(url.deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
        return true
    }
}
