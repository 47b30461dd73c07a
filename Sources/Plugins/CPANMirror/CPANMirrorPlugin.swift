import FoundationEssentials
import PluginAPI

#if canImport(Glibc)
import Glibc
#endif

/// Read-only directory mirrors (a CPAN mirror under `/cpan` is the usual one): `GET` and `HEAD`,
/// one `Range`, `ETag`/`Last-Modified` validators, and an HTML index of directories with
/// `--mirror-index`. Every request is recorded by the host; the report lists the first 1,000 as
/// `mirror_requests` (`mirror_requests_omitted` counts the rest) and sums all of them up as
/// `mirror_totals`.
public final class CPANMirrorPlugin: Plugin {
    public static let name = "CPANMirror"
    public static let summary = "read-only directory mirrors (Range, 304, index); every request recorded"
    public static let hooks: Set<Hook> = [.export, .recover]
    public static let namespaceSummary = "each --mirror PREFIX (e.g. /cpan/*)"

    private let roots: [MirrorRoot]
    private let listsDirectories: Bool
    private let log = MirrorLog()

    /// Never throws for a missing directory: the job was checked before the run, and a report
    /// rebuilt after the directory is gone must still list the requests.
    public init(context: any HostContext) throws {
        roots = context.configuration.mirrors.map(MirrorRoot.init)
        listsDirectories = context.configuration.mirrorIndex
    }

    public var namespaces: [Namespace] { roots.map { .prefix($0.prefix) } }

    public func exportData(_ request: GuestRequest) throws -> Reply {
        guard case .prefix(let prefix) = request.namespace, let root = roots.first(where: { $0.prefix == prefix }) else {
            throw GuestError(404, "no mirror mounted at \(request.path)")
        }
        let found: MirrorRoot.Found
        do {
            found = try root.locate(request.subpath)
        } catch .notFound {
            throw GuestError(404, "not in the mirror: \(request.path)")
        } catch .outsideRoot {
            throw GuestError(403, "refused: \(request.path) leads outside the mirror")
        } catch {
            throw GuestError(400, "refused: \(request.path) is not a plain path (\(error))")
        }
        if found.isDirectory {
            guard listsDirectories else { throw GuestError(404, "\(request.path) is a directory (no index without --mirror-index)") }
            return .html(DirectoryIndex.page(directory: found.path, urlPath: request.path))
        }
        guard found.isRegularFile, !request.subpath.hasSuffix("/") else {
            throw GuestError(404, "not a file in the mirror: \(request.path)")
        }
        return MirrorReply.file(found.path, found.validators, request: request)
    }

    public func recover(_ entry: JournalEntry) throws {
        guard entry.kind == "request" else { return }
        log.add(entry)
    }

    public func report() -> [String: JSONValue] {
        ["mirror_requests": .array(log.requests), "mirror_requests_omitted": .int(log.omitted), "mirror_totals": log.totals]
    }
}

extension Reply {
    fileprivate static func html(_ page: String) -> Reply {
        Reply(status: 200, headers: [("Content-Type", "text/html; charset=utf-8")], body: .bytes(Data(page.utf8)))
    }
}

extension FileIdentity {
    init(_ info: stat) {
        self.init(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
            modified: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec))
    }
}
