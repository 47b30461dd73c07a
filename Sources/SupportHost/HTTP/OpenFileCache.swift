import NIOCore
import PluginAPI

#if canImport(Glibc)
import Glibc
#endif

/// One event loop's open files: a file served again is sent from the descriptor already open,
/// without an `open`, `fstat` or `close`, as long as the plug-in's `FileIdentity` of it is
/// unchanged.
///
/// One cache per event loop, never shared: NIO lets one `NIOFileHandle` be used by one thread at
/// a time and fails the other with EBUSY, which measured ~0.2% of `FileRegion` writes when two
/// loops shared handles. A handle still being sent when it is evicted is closed when its last
/// send ends. Slices without an identity are opened and closed for their one reply.
final class OpenFileCache: @unchecked Sendable {
    // Safe: every method runs on `loop` (asserted), so the mutable state has one thread.
    let loop: any EventLoop
    /// Small files' bytes, shared with the other loops' caches.
    let smallFiles: SmallFileBytes
    private let capacity: Int
    private var entries: [String: Entry] = [:]
    private var uses: UInt64 = 0

    /// An open file and how many replies are sending from it.
    // Safe: made, used and closed only on the cache's loop; it crosses into a future's callback
    // that runs on that same loop.
    final class Entry: @unchecked Sendable {
        let handle: NIOFileHandle
        let identity: FileIdentity?
        var senders = 0
        var lastUse: UInt64 = 0
        var evicted = false

        init(handle: NIOFileHandle, identity: FileIdentity?) {
            self.handle = handle
            self.identity = identity
        }
    }

    /// Why a slice could not be opened, as the reply says it.
    struct Failure: Error {
        let status: Int
        let reason: String
    }

    init(loop: any EventLoop, capacity: Int = 256, smallFiles: SmallFileBytes = SmallFileBytes()) {
        self.loop = loop
        self.capacity = capacity
        self.smallFiles = smallFiles
    }

    /// An open file for `slice`, held until `checkIn`.
    func checkOut(_ slice: FileSlice) -> Result<Entry, Failure> {
        loop.assertInEventLoop()
        uses &+= 1
        guard let identity = slice.identity, capacity > 0 else {
            return open(slice.path, expecting: nil).map { entry in
                entry.evicted = true  // not cached: closed by its check-in
                entry.senders = 1
                return entry
            }
        }
        if let entry = entries[slice.path] {
            if entry.identity == identity {
                entry.senders += 1
                entry.lastUse = uses
                return .success(entry)
            }
            evict(slice.path)
        }
        return open(slice.path, expecting: identity).map { entry in
            if entries.count >= capacity { evictLeastRecentlyUsed() }
            entry.senders = 1
            entry.lastUse = uses
            entries[slice.path] = entry
            return entry
        }
    }

    /// The reply is sent (or failed); an evicted file with no other sender is closed now.
    func checkIn(_ entry: Entry) {
        loop.assertInEventLoop()
        entry.senders -= 1
        if entry.evicted && entry.senders == 0 { try? entry.handle.close() }
    }

    /// Closes every file no reply is sending from; the rest close at their check-in.
    func closeAll() {
        loop.assertInEventLoop()
        for path in Array(entries.keys) { evict(path) }
    }

    var count: Int { entries.count }

    private func open(_ path: String, expecting identity: FileIdentity?) -> Result<Entry, Failure> {
        Self.openChecked(path, expecting: identity).map { fd in
            Entry(handle: NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: fd), identity: identity)
        }
    }

    /// A descriptor of the regular file at `path`, checked to be the one `identity` describes.
    static func openChecked(_ path: String, expecting identity: FileIdentity?) -> Result<Int32, Failure> {
        // O_NOFOLLOW: a last component swapped for a symlink is refused; O_NONBLOCK: a file
        // swapped for a FIFO cannot block the event loop in open().
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard fd >= 0 else {
            return .failure(Failure(status: 404, reason: "cannot open \(path): \(String(cString: strerror(errno)))"))
        }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            Glibc.close(fd)
            return .failure(Failure(status: 404, reason: "\(path) is no longer a regular file"))
        }
        if let identity, identity != FileIdentity(info) {
            Glibc.close(fd)
            return .failure(Failure(status: 503, reason: "\(path) changed while being served; retry"))
        }
        return .success(fd)
    }

    private func evict(_ path: String) {
        guard let entry = entries.removeValue(forKey: path) else { return }
        entry.evicted = true
        if entry.senders == 0 { try? entry.handle.close() }
    }

    private func evictLeastRecentlyUsed() {
        guard let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse })?.key else { return }
        evict(oldest)
    }
}

extension FileIdentity {
    /// The identity `stat` gives.
    init(_ info: stat) {
        self.init(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
            modified: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec))
    }
}

/// The open-file caches of a server, one per event loop of its group, made before the first
/// connection so that no lookup needs a lock.
struct OpenFileCaches: Sendable {
    private let caches: [ObjectIdentifier: OpenFileCache]

    init(group: any EventLoopGroup, capacity: Int? = nil) {
        let loops = Array(group.makeIterator())
        let capacity = capacity ?? Self.capacity(loops: loops.count)
        let smallFiles = SmallFileBytes()
        var caches: [ObjectIdentifier: OpenFileCache] = [:]
        for loop in loops {
            caches[ObjectIdentifier(loop)] = OpenFileCache(loop: loop, capacity: capacity, smallFiles: smallFiles)
        }
        self.caches = caches
    }

    /// Open files per loop: up to 1024, but all loops together keep to a quarter of the
    /// process's descriptor limit (connections, results and the journal need the rest).
    static func capacity(loops: Int) -> Int {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max else { return 1024 }
        return max(16, min(1024, Int(limit.rlim_cur) / 4 / max(1, loops)))
    }

    /// The cache of `loop`; a loop outside the group (never expected) gets a cache of its own.
    func cache(for loop: any EventLoop) -> OpenFileCache {
        caches[ObjectIdentifier(loop)] ?? OpenFileCache(loop: loop, capacity: 0)
    }

    /// Closes every cached file, each on its own loop.
    func closeAll() async {
        for cache in caches.values {
            try? await cache.loop.submit { cache.closeAll() }.get()
        }
    }
}
