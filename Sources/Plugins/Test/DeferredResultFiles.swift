import Crypto
import FoundationEssentials
import PluginAPI
import SupportKit

#if canImport(Glibc)
import Glibc
#endif

/// The files of small results, written after their uploads instead of during them.
///
/// A small result is durable through its `result-stored` record, which carries its bytes, so
/// its file can wait. While uploads keep coming no file is created — one file per upload cost
/// more CPU than the rest of the upload (ext4's inode allocation, the directory's lock taken
/// by every concurrent upload), and each journal fsync also committed the new files' metadata.
/// Files are written once uploads pause for `quietPeriod`, and whatever is left when the run
/// ends (`Plugin.finishFiles`, before the host's `syncfs` and the report). After a crash,
/// `recover` writes back from the journal any file that is missing.
///
/// Bytes wait in memory up to `memoryBudget`; past it only a file's name and digest are kept,
/// and the run's end reads those bytes back from the plug-in's own journal records.
final class DeferredResultFiles: Sendable {
    static let quietPeriod: Duration = .milliseconds(100)

    private struct Waiting {
        var bytes: Data?
        let sha256: String
    }
    private struct State {
        /// By file, relative to the run directory (`results/…`).
        var waiting: [String: Waiting] = [:]
        var heldBytes = 0
        var lastAdded = ContinuousClock.now
        var writerScheduled = false
    }
    private let state = Locked(State())
    /// One writer at a time, the quiet-time one or the run's end: the end must not sync the
    /// file system while the other still writes.
    private let writing = Locked(())
    let runDirectory: URL
    let memoryBudget: Int
    /// Tells of a file that could not be written (its bytes stay in the journal).
    private let failed: @Sendable (_ file: String, _ reason: String) -> Void

    init(runDirectory: URL, memoryBudget: Int = 32 << 20, failed: @escaping @Sendable (String, String) -> Void) {
        self.runDirectory = runDirectory
        self.memoryBudget = memoryBudget
        self.failed = failed
    }

    /// A small result was stored durably: its file is to be written.
    func add(file: String, bytes: Data, sha256: String) {
        let scheduleWriter = state.withLock { state -> Bool in
            let keep = state.heldBytes + bytes.count <= memoryBudget
            state.waiting[file] = Waiting(bytes: keep ? bytes : nil, sha256: sha256)
            if keep { state.heldBytes += bytes.count }
            state.lastAdded = .now
            defer { state.writerScheduled = true }
            return !state.writerScheduled
        }
        if scheduleWriter { Task { await writeWhenQuiet() } }
    }

    /// The files not written yet.
    var waitingFiles: Set<String> { state.withLock { Set($0.waiting.keys) } }

    /// Sleeps until no result has arrived for `quietPeriod`, then writes the files whose bytes
    /// are held.
    private func writeWhenQuiet() async {
        while true {
            try? await Task.sleep(for: Self.quietPeriod)
            let quiet = state.withLock { state -> Bool in
                guard ContinuousClock.now - state.lastAdded >= Self.quietPeriod else { return false }
                state.writerScheduled = false
                return true
            }
            if quiet { break }
        }
        _ = try? await blocking { self.writeHeld() }
    }

    private func writeHeld() {
        writing.withLock { _ in
            let taken = state.withLock { state -> [String: Waiting] in
                let held = state.waiting.filter { $0.value.bytes != nil }
                for file in held.keys { state.waiting[file] = nil }
                state.heldBytes = 0
                return held
            }
            for (file, waiting) in taken { write(waiting.bytes!, to: file) }
        }
    }

    /// Writes every file still waiting, and `alsoMissing` (files of the run's results that do
    /// not exist, e.g. left by a host that stopped before writing them), the bytes of those not
    /// held read back from `records`. Returns once they are all written.
    func writeAll(alsoMissing: [String: String], records: FileRecovery) async {
        _ = try? await blocking {
            self.writing.withLock { _ in
                var unheld = alsoMissing
                let taken = self.state.withLock { state -> [String: Waiting] in
                    defer { state.waiting = [:]; state.heldBytes = 0 }
                    return state.waiting
                }
                for (file, waiting) in taken {
                    if let bytes = waiting.bytes { self.write(bytes, to: file) } else { unheld[file] = waiting.sha256 }
                }
                guard !unheld.isEmpty else { return }
                records.forEachOwnEntry { entry in
                    guard entry.kind == "result-stored", let file = entry.field("file")?.stringValue, let sha256 = unheld[file],
                        TestPlugin.isResultFile(file), let encoded = entry.field(TestPlugin.inlineResultField)?.stringValue,
                        let bytes = Data(base64Encoded: encoded), hexEncoded(SHA256.hash(data: bytes)) == sha256
                    else { return }
                    self.write(bytes, to: file)
                    unheld[file] = nil
                }
                for file in unheld.keys.sorted() { self.failed(file, "its bytes were not found in the journal") }
            }
        }
    }

    /// A temporary file beside it, renamed over it: never a torn file under the result's name.
    /// No fsync: the journal holds the bytes until the run's `syncfs`.
    private func write(_ bytes: Data, to file: String) {
        let path = runDirectory.appendingPathComponent(file).path
        let slash = path.lastIndex(of: "/")!
        let folder = String(path[..<slash])
        let temporary = folder + "/" + ResultWriter.temporaryPrefix + UUID().uuidString
        var fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd < 0, errno == ENOENT {  // results/ removed during the run: the result was acknowledged
            try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        }
        guard fd >= 0 else { return failed(file, "open: \(String(cString: strerror(errno)))") }
        do {
            try FileIO.writeAll(fd, bytes)
        } catch {
            close(fd)
            unlink(temporary)
            return failed(file, "write: \(String(cString: strerror(error.rawValue)))")
        }
        close(fd)
        if rename(temporary, path) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            failed(file, "rename: \(reason)")
        }
    }
}
