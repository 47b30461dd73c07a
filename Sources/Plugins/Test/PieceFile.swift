import Crypto
import FoundationEssentials
import PluginAPI
import SupportKit
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// The sparse file a resumable upload is assembled in: each piece is written at its offset
/// (`pwrite`), bytes that already arrived are compared instead of rewritten, and only a few
/// chunks are ever in memory. Blocking calls: use it from an import hook's task, never from
/// an event loop.
struct PieceFile {
    let url: URL
    private let fd: Int32

    /// Opens (creating) the file and sets its length to `total`; holes read as zeros.
    init(url: URL, total: Int64) throws {
        self.url = url
        fd = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { throw POSIXFailure("open \(url.path)", errno) }
        var status = stat()
        if fstat(fd, &status) == 0, status.st_size != total, ftruncate(fd, off_t(total)) != 0 {
            let code = errno
            Glibc.close(fd)
            throw POSIXFailure("ftruncate \(url.path)", code)
        }
    }

    /// Opens an existing file read-only (a complete result, to compare a repeated piece with).
    init(existing url: URL) throws {
        self.url = url
        fd = open(url.path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw POSIXFailure("open \(url.path)", errno) }
    }

    /// Writes `chunk` at `offset`, except where `received` says bytes are already there: those
    /// must be equal, else `false` (an inconsistent piece) and nothing more is written.
    func place(_ chunk: Data, at offset: Int64, received: ByteRanges) throws -> Bool {
        var position = offset
        let end = offset + Int64(chunk.count)
        while position < end {
            let start = Int(position - offset)
            if let have = received.range(containing: position) {
                let stop = min(end, have.upperBound + 1)
                guard try equal(chunk[chunk.startIndex + start..<chunk.startIndex + Int(stop - offset)], at: position) else { return false }
                position = stop
            } else {
                let stop = min(end, received.start(after: position) ?? end)
                try write(chunk[chunk.startIndex + start..<chunk.startIndex + Int(stop - offset)], at: position)
                position = stop
            }
        }
        return true
    }

    /// Whether the file holds exactly `bytes` at `offset`.
    func equal(_ bytes: Data, at offset: Int64) throws -> Bool {
        var stored = [UInt8](repeating: 0, count: bytes.count)
        let count: Int
        do {
            count = try stored.withUnsafeMutableBytes { try FileIO.read(fd, into: $0, at: offset) }
        } catch let error as Errno {
            throw POSIXFailure("pread \(url.path)", error.rawValue)
        }
        return count == stored.count && stored.elementsEqual(bytes)
    }

    private func write(_ bytes: Data, at offset: Int64) throws {
        do {
            try FileIO.writeAll(fd, bytes, at: offset)
        } catch {
            throw POSIXFailure("pwrite \(url.path)", error.rawValue)
        }
    }

    /// Flushes the file's data to stable storage (before a piece is acknowledged).
    func sync() throws {
        guard fsync(fd) == 0 else { throw POSIXFailure("fsync \(url.path)", errno) }
    }

    /// The hex SHA-256 of the whole file, read in 1 MiB blocks.
    func digest() throws -> String {
        do {
            return try FileDigest.sha256(fd: fd)
        } catch let error as Errno {
            throw POSIXFailure("pread \(url.path)", error.rawValue)
        }
    }

    func close() { _ = Glibc.close(fd) }
}
