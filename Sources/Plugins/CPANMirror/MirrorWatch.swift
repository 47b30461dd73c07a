import SupportKit
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Says whether anything changed in the directories of the files served lately, so that a
/// remembered resolution can be reused without a `stat` of its file per request (the `stat`'s
/// path walk was the largest cost of a small GET left in the plug-in).
///
/// An inotify descriptor watches each directory from a served file up to its mount's root; any
/// event there (a write, a truncate, a `touch`, a rename, a removal, a queue overflow) starts a
/// new generation, and a resolution made in an older one is checked again. The kernel queues
/// the event inside the call that changes the file, before that call returns, and the queue is
/// read before every reuse: a request that follows a change always sees it.
final class MirrorWatch: Sendable {
    /// Directories watched at most; past it, resolutions are checked with `stat` as before.
    static let maximumDirectories = 4096

    private let descriptor: Int32
    private let state = Mutex(State())
    /// `State.generation`, readable without the lock.
    private let published = Atomic<UInt64>(0)
    /// A drain is under way: events it has taken from the queue may not be counted yet.
    private let draining = Atomic<Bool>(false)

    private struct State {
        var generation: UInt64 = 0
        var watched: Set<String> = []
    }

    init() {
        descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// The current generation once every queued event is read, or nil without inotify.
    func generation() -> UInt64? {
        guard descriptor >= 0 else { return nil }
        // Nothing queued and no drain under way: the generation stands, and no lock is taken
        // (every request of every event loop asks, and the lock held over a `read` was
        // contended: 4% of a GET's CPU in its slow path). A drain that took events out of the
        // queue before this look is still `draining`, or has published their generation.
        if FileIO.queuedBytes(descriptor) == 0, !draining.load(ordering: .sequentiallyConsistent) {
            return published.load(ordering: .sequentiallyConsistent)
        }
        return state.withLock { state in
            drain(&state)
            return state.generation
        }
    }

    /// Watches every directory from `path`'s own up to `root` (both real paths); false when one
    /// cannot be watched, and then the file is checked by `stat` on every request.
    func watch(_ path: String, root: String) -> Bool {
        guard descriptor >= 0 else { return false }
        var directories: [String] = []
        var directory = Substring(path)
        while let slash = directory.lastIndex(of: "/"), directory.count > root.count {
            directory = directory[..<slash]
            directories.append(String(directory))
        }
        return state.withLock { state in
            for directory in directories where !state.watched.contains(directory) {
                guard state.watched.count < Self.maximumDirectories else { return false }
                let mask = IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE
                    | IN_DELETE_SELF | IN_MOVE_SELF
                guard inotify_add_watch(descriptor, directory, UInt32(mask)) >= 0 else { return false }
                state.watched.insert(directory)
            }
            return true
        }
    }

    /// Reads every queued event; any at all is a change. A directory removed or moved away
    /// loses its watch, so after a change every directory is watched afresh when next served.
    private func drain(_ state: inout State) {
        draining.store(true, ordering: .sequentiallyConsistent)
        defer { draining.store(false, ordering: .sequentiallyConsistent) }
        var changed = false
        withUnsafeTemporaryAllocation(byteCount: 4096, alignment: 8) { buffer in
            while true {
                let count = read(descriptor, buffer.baseAddress, buffer.count)
                if count > 0 { changed = true } else if count < 0 && errno == EINTR { continue } else { break }
            }
        }
        if changed {
            state.generation &+= 1
            state.watched.removeAll(keepingCapacity: true)
            published.store(state.generation, ordering: .sequentiallyConsistent)
        }
    }
}
