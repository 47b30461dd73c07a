import NIOCore
import PluginAPI
import SupportKit
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The bytes of small files served lately, shared by every event loop.
///
/// A small file sent with `sendfile` costs a write for the head and a `sendfile` for the body:
/// two system calls and two TCP segments for 1 KiB (perf showed them as the largest cost of a
/// small GET). From memory, head and body leave in one `writev`. An entry is keyed by path and
/// used only while the plug-in's `FileIdentity` of the request (device, inode, size, mtime)
/// matches the one it was read with, so a changed file is read again at once. At most `budget`
/// bytes are held; files over `maximumFileSize` always go by `sendfile`.
final class SmallFileBytes: Sendable {
    static let maximumFileSize: Int64 = 64 << 10

    let budget: Int
    private let state = Mutex(State())

    private struct State {
        var files: [String: (identity: FileIdentity, bytes: ByteBuffer)] = [:]
        var heldBytes = 0
    }

    init(budget: Int = 16 << 20) {
        self.budget = budget
    }

    /// The bytes of `slice`, or nil when it is not a small file this store keeps (no identity,
    /// or too large): then the caller sends it from a descriptor.
    func bytes(for slice: FileSlice) -> Result<ByteBuffer, OpenFileCache.Failure>? {
        guard let identity = slice.identity, identity.size <= Self.maximumFileSize, identity.size <= budget else { return nil }
        let held = state.withLock { state -> ByteBuffer? in
            guard let entry = state.files[slice.path], entry.identity == identity else { return nil }
            return entry.bytes
        }
        if let held { return Self.cut(held, slice) }
        return Self.read(slice.path, identity).flatMap { bytes in
            if Self.settled(identity) { store(slice.path, identity, bytes) }
            return Self.cut(bytes, slice)
        }
    }

    /// Whether a file's state can be trusted to describe its bytes: a file written to in place
    /// has its mtime set before its bytes change, and two writes within one clock tick share
    /// one mtime, so a file changed in the last second is read anew each time ("racy git").
    private static func settled(_ identity: FileIdentity) -> Bool {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec) - identity.modified > 1_000_000_000
    }

    var heldBytes: Int { state.withLock { $0.heldBytes } }

    private func store(_ path: String, _ identity: FileIdentity, _ bytes: ByteBuffer) {
        state.withLock { state in
            if let old = state.files.removeValue(forKey: path) { state.heldBytes -= old.bytes.readableBytes }
            // Full: drop entries in the dictionary's own (arbitrary) order; no bookkeeping per hit.
            while state.heldBytes + bytes.readableBytes > budget, let victim = state.files.first {
                state.files.removeValue(forKey: victim.key)
                state.heldBytes -= victim.value.bytes.readableBytes
            }
            state.files[path] = (identity, bytes)
            state.heldBytes += bytes.readableBytes
        }
    }

    /// The slice's bytes; a slice past the end (a plug-in's mistake) is refused, never sent
    /// short of its `Content-Length`.
    private static func cut(_ bytes: ByteBuffer, _ slice: FileSlice) -> Result<ByteBuffer, OpenFileCache.Failure> {
        guard slice.offset >= 0, slice.length >= 0,
            let part = bytes.getSlice(at: bytes.readerIndex + Int(slice.offset), length: Int(slice.length))
        else {
            return .failure(OpenFileCache.Failure(status: 500, reason: "\(slice.path): the slice \(slice.offset)+\(slice.length) is outside the file"))
        }
        return .success(part)
    }

    /// Reads the whole file, checked to be the one the plug-in saw.
    private static func read(_ path: String, _ identity: FileIdentity) -> Result<ByteBuffer, OpenFileCache.Failure> {
        OpenFileCache.openChecked(path, expecting: identity).flatMap { fd in
            defer { Glibc.close(fd) }
            let size = Int(identity.size)
            var buffer = ByteBufferAllocator().buffer(capacity: size)
            let complete = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { raw -> Int in
                (try? FileIO.read(fd, into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<size]), at: 0)) ?? 0
            }
            // Still the file the plug-in saw, after the read as before it.
            var after = stat()
            guard complete == size, fstat(fd, &after) == 0, FileIdentity(after) == identity else {
                return .failure(OpenFileCache.Failure(status: 503, reason: "\(path) changed while being served; retry"))
            }
            return .success(buffer)
        }
    }
}
