import CSupport
import FoundationEssentials
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// The low-level file loops the host and the built-in plug-ins share: every byte written or
/// read despite short counts and `EINTR`, and a file replaced so that a crash leaves either
/// the old one or the new one, complete.
package enum FileIO {
    /// The bytes waiting to be read from `fd` (`FIONREAD`), or -1 with `errno`.
    package static func queuedBytes(_ fd: Int32) -> Int32 { csupport_queued_bytes(fd) }

    /// Writes all of `bytes` at the descriptor's offset, or at `offset` (`pwrite`), retrying
    /// short writes and `EINTR` (swift-system's `writeAll`).
    package static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64? = nil) throws(Errno) {
        guard bytes.count > 0 else { return }
        let descriptor = FileDescriptor(rawValue: fd)
        do {
            if let offset {
                _ = try descriptor.writeAll(toAbsoluteOffset: offset, bytes)
            } else {
                _ = try descriptor.writeAll(bytes)
            }
        } catch let error as Errno {
            throw error
        } catch {
            throw Errno.ioError
        }
    }

    /// Writes all of `data`, as `writeAll(_:_:at:)` does a buffer.
    package static func writeAll(_ fd: Int32, _ data: Data, at offset: Int64? = nil) throws(Errno) {
        let written = data.withUnsafeBytes { raw in Result { () throws(Errno) in try writeAll(fd, raw, at: offset) } }
        try written.get()
    }

    /// Reads up to `buffer.count` bytes from `offset` (`pread`), retrying short reads and
    /// `EINTR`; fewer only at the end of the file. Returns how many were read.
    package static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(Errno) -> Int {
        var done = 0
        while done < buffer.count {
            let count = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            if count < 0 {
                if errno == EINTR { continue }
                throw Errno(rawValue: errno)
            }
            if count == 0 { break }
            done += count
        }
        return done
    }

    /// At most `count` bytes of the file at `path` from `offset` (nil when it cannot be opened),
    /// or its last `count` bytes when `offset` is nil.
    package static func contents(ofFile path: String, count: Int, from offset: Int64? = 0) -> (bytes: [UInt8], start: Int64)? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var start = offset ?? 0
        if offset == nil {
            var info = stat()
            guard fstat(fd, &info) == 0 else { return nil }
            start = max(0, Int64(info.st_size) - Int64(count))
        }
        var bytes = [UInt8](repeating: 0, count: count)
        guard let read = try? bytes.withUnsafeMutableBytes({ (raw) throws(Errno) in try read(fd, into: raw, at: start) }) else { return nil }
        bytes.removeSubrange(read...)
        return (bytes, start)
    }

    /// Makes a directory's entries (a rename, a new file) durable. Best effort: a failure here
    /// leaves the file itself durable.
    package static func syncDirectory(_ directory: URL) {
        let fd = open(directory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }

    /// Replaces `url` with `bytes` durably: a temporary file beside it, written and fsynced,
    /// renamed over it, and the directory fsynced. A crash at any point leaves the old file or
    /// the new one, never a torn one.
    package static func replaceDurably(_ url: URL, with bytes: Data, temporaryPrefix: String = ".replacing-") throws(Errno) {
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(temporaryPrefix + UUID().uuidString).path
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Errno(rawValue: errno) }
        do throws(Errno) {
            try writeAll(fd, bytes)
            guard fsync(fd) == 0 else { throw Errno(rawValue: errno) }
            close(fd)
            guard rename(temporary, url.path) == 0 else { throw Errno(rawValue: errno) }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        syncDirectory(directory)
    }
}
