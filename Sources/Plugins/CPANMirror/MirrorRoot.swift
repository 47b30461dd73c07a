import FoundationEssentials
import PluginAPI
import SupportKit

#if canImport(Glibc)
import Glibc
#endif

/// One mounted directory and its remembered path resolutions.
///
/// Resolving a path (`realpath`, one `lstat` per component) is the costly part of a request, so
/// a resolution is reused for up to a second. A changed file is seen at once: while `MirrorWatch`
/// reports no change in the file's directories since the resolution, the `stat` made then still
/// describes the file; otherwise the file is `stat`ed again, and the resolution redone whenever
/// the file found there is not the one (device, inode) that was resolved inside the root.
final class MirrorRoot: Sendable {
    /// The URL prefix, e.g. `/cpan`.
    let prefix: String
    /// The real path of the directory; `nil` when it no longer exists (a report rebuilt later).
    let root: String?

    private let resolutions = Locked([String: Resolution]())
    private let watch = MirrorWatch()
    private static let reuseFor = Duration.seconds(1)
    private static let maximumResolutions = 4096

    private struct Resolution {
        let path: String
        let info: stat
        let checked: ContinuousClock.Instant
        let validators: MirrorReply.Validators
        /// The watch's generation before `info` was taken; nil: not watched, `stat` each time.
        let generation: UInt64?
    }

    /// A file or directory found inside the root.
    struct Found {
        let path: String
        let info: stat
        /// Those of the file's present state.
        let validators: MirrorReply.Validators
        var isDirectory: Bool { (info.st_mode & S_IFMT) == S_IFDIR }
        var isRegularFile: Bool { (info.st_mode & S_IFMT) == S_IFREG }

        init(path: String, info: stat, known: MirrorReply.Validators? = nil) {
            self.path = path
            self.info = info
            let identity = FileIdentity(info)
            validators = known?.identity == identity ? known! : MirrorReply.Validators(path: path, identity: identity)
        }
    }

    init(_ mount: MirrorMount) {
        prefix = mount.prefix
        if let real = realpath(mount.directory, nil) {
            root = String(cString: real)
            free(real)
        } else {
            root = nil
        }
    }

    /// What the raw subpath names inside the root, or why it is refused.
    func locate(_ raw: String) throws(MirrorPath.Refusal) -> Found {
        guard let root else { throw .notFound }
        let now = ContinuousClock.now
        var info = stat()
        if let known = resolutions.withLock({ $0[raw] }), now - known.checked < Self.reuseFor {
            if let generation = known.generation, generation == watch.generation() {
                return Found(path: known.path, info: known.info, known: known.validators)
            }
            if stat(known.path, &info) == 0, info.st_dev == known.info.st_dev, info.st_ino == known.info.st_ino {
                return Found(path: known.path, info: info, known: known.validators)
            }
        }
        let path = try MirrorPath.resolve(try MirrorPath.decode(raw), under: root)
        // Watched before the generation is read and the generation before the stat: a change
        // after any of them starts a newer generation.
        let generation = watch.watch(path, root: root) ? watch.generation() : nil
        guard stat(path, &info) == 0 else { throw .notFound }
        let found = Found(path: path, info: info)
        let resolution = Resolution(path: path, info: info, checked: now, validators: found.validators, generation: generation)
        resolutions.withLock { table in
            if table.count >= Self.maximumResolutions { table.removeAll(keepingCapacity: true) }
            table[raw] = resolution
        }
        return found
    }
}
