import Foundation
import PluginAPI
import SupportKit

#if canImport(Glibc)
import Glibc
#endif

/// One mounted directory and its remembered path resolutions.
///
/// Resolving a path (`realpath`, one `lstat` per component) is the costly part of a request, so
/// a resolution is reused for up to a second. Every request still `stat`s the file itself, so a
/// changed file is seen at once, and a resolution is redone whenever the file found there is not
/// the one (device, inode) that was resolved inside the root.
final class MirrorRoot: Sendable {
    /// The URL prefix, e.g. `/cpan`.
    let prefix: String
    /// The real path of the directory; `nil` when it no longer exists (a report rebuilt later).
    let root: String?

    private let resolutions = Locked([String: Resolution]())
    private static let reuseFor = Duration.seconds(1)
    private static let maximumResolutions = 4096

    private struct Resolution {
        let path: String
        let device: UInt64
        let inode: UInt64
        let checked: ContinuousClock.Instant
        let validators: MirrorReply.Validators
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
        if let known = resolutions.withLock({ $0[raw] }), now - known.checked < Self.reuseFor,
            stat(known.path, &info) == 0, UInt64(info.st_dev) == known.device, UInt64(info.st_ino) == known.inode
        {
            return Found(path: known.path, info: info, known: known.validators)
        }
        let path = try MirrorPath.resolve(try MirrorPath.decode(raw), under: root)
        guard stat(path, &info) == 0 else { throw .notFound }
        let found = Found(path: path, info: info)
        let resolution = Resolution(
            path: path, device: UInt64(info.st_dev), inode: UInt64(info.st_ino), checked: now, validators: found.validators)
        resolutions.withLock { table in
            if table.count >= Self.maximumResolutions { table.removeAll(keepingCapacity: true) }
            table[raw] = resolution
        }
        return found
    }
}
