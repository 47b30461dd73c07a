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

    /// Writes `file` (relative to the run directory) back from the journal when a record holds
    /// bytes with the digest the report expects. Reads the journal again: this happens only for
    /// a result that failed its check, which is rare.
    static func restore(file: String, sha256: String, in directory: RunDirectory) -> Bool {
        guard let journal = try? MappedJournal(directory.journal) else { return false }
        var encoded: String?
        _ = JournalFormat.scan(journal.bytes) { entry in
            if entry.kind == "result-stored", entry.field("file")?.stringValue == file, let inline = entry.field(field)?.stringValue {
                encoded = inline
            }
        }
        guard let encoded, let bytes = Data(base64Encoded: encoded),
            hexEncoded(SHA256.hash(data: bytes)) == sha256
        else { return false }
        return write(bytes, to: directory.url.appendingPathComponent(file))
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
