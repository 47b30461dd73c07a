import Crypto
import FoundationEssentials
import PluginAPI
import SupportKit
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Receives one upload, hashing as it goes. A small result (up to `inlineLimit`) stays in
/// memory and never becomes a file during the upload: its bytes go into the journal record that
/// stores it, so that record's fsync — shared by every upload of the group — is the only one it
/// needs, and `DeferredResultFiles` writes the file later (see there). A larger result streams
/// into a temporary file in `results/` (`DirectWriter`), which is fsynced, renamed into place
/// and its directory fsynced before the answer.
struct ResultWriter {
    static let inlineLimit = 64 << 10
    /// The name a result has while it arrives: never acknowledged, so `recover` removes it.
    static let temporaryPrefix = ".partial-"

    /// Paths as strings: `URL.appendingPathComponent` stats the file system to guess whether
    /// a name is a directory, which showed in profiles of small uploads.
    let directory: String
    let temporaryPath: String
    /// The temporary file, opened only once the result outgrows `inlineLimit` (-1 until then):
    /// creating a file per small upload cost more CPU than the rest of the upload (ext4's inode
    /// allocation and the directory's lock, contended by concurrent uploads).
    private var fd: Int32 = -1
    private var file: DirectWriter?
    private var hasher = SHA256()
    /// Takes over from `hasher` once the result streams to its file.
    private var backgroundHasher: BackgroundHasher?
    private(set) var size: Int64 = 0
    /// The first bytes, to tell whether the result is worth parsing as XML.
    private(set) var head = Data()
    /// The whole result while it is no larger than `inlineLimit`.
    private(set) var inlineBytes: Data? = Data()

    init(directory: URL) throws {
        self.directory = directory.path
        temporaryPath = self.directory + "/" + Self.temporaryPrefix + UUID().uuidString
    }

    mutating func write(_ chunk: Data) async throws {
        if let backgroundHasher { backgroundHasher.update(chunk) } else { hasher.update(data: chunk) }
        size += Int64(chunk.count)
        if head.count < 64 { head += chunk.prefix(64 - head.count) }
        if size <= Self.inlineLimit {
            inlineBytes?.append(chunk)
            return
        }
        if fd < 0 { try await openFile() }
        try await writeToFile(chunk)
    }

    private func writeToFile(_ bytes: Data) async throws(POSIXFailure) {
        do {
            try await file!.write(bytes)
        } catch {
            throw POSIXFailure("\(error.operation) \(temporaryPath)", error.code)
        }
    }

    /// The result outgrew `inlineLimit`: from here on it streams to the temporary file.
    private mutating func openFile() async throws {
        fd = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw POSIXFailure("open \(temporaryPath)", errno) }
        file = DirectWriter(fd: fd)
        backgroundHasher = BackgroundHasher(continuing: hasher)
        if let held = inlineBytes, !held.isEmpty { try await writeToFile(held) }
        inlineBytes = nil
    }

    /// Makes the file durable and renames it to `name`, off the cooperative pool: the fsyncs
    /// block, and concurrent uploads must not wait for each other's.
    func commit(as name: String) async throws {
        let (fd, file, temporaryPath, directory) = (fd, file, temporaryPath, directory)
        try await blocking {
            do throws(POSIXFailure) {
                try file?.finish()
            } catch {
                throw POSIXFailure("\(error.operation) \(temporaryPath)", error.code)
            }
            guard fsync(fd) == 0 else { throw POSIXFailure("fsync \(temporaryPath)", errno) }
            let final = directory + "/" + name
            guard rename(temporaryPath, final) == 0 else { throw POSIXFailure("rename to \(final)", errno) }
            close(fd)  // last: on a failure above, `discard` closes it, and only it
            FileIO.syncDirectory(URL(fileURLWithPath: directory, isDirectory: true))
        }
    }

    /// The digest so far, without committing (for comparing a repeat).
    var digest: String { backgroundHasher?.digest ?? hexEncoded(hasher.finalize()) }

    func discard() async {
        guard fd >= 0 else { return }
        await file?.drained()  // no block may be written into a closed (or reused) descriptor
        close(fd)
        unlink(temporaryPath)
    }
}

struct POSIXFailure: Error, CustomStringConvertible {
    let operation: String
    let code: Int32
    init(_ operation: String, _ code: Int32) {
        self.operation = operation
        self.code = code
    }
    var description: String { "\(operation): \(String(cString: strerror(code)))" }
}
